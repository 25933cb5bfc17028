"""Drove as the scheduler and the topology services see it, over Epoch's Drove client.

One client per process: its pooled HTTP session and leader discovery serve every thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from django.conf import settings

from drove_client.client import DroveClient
from drove_client.errors import DroveError
from drove_client.results import TaskInfo
from scheduler.core.tasks import Observation
from topologies.codec import task_to_json
from topologies.domain import ContainerTask


class DroveGateway:
    """Implements the scheduler's ``TaskGateway`` and the services' ``DroveOps``."""

    def __init__(self, client: DroveClient) -> None:
        self.client = client

    def start(self, task_id: str, task: ContainerTask) -> Observation:
        outcome = self.client.start_task(task_id, task_to_json(task))
        return Observation(outcome.state, outcome.upstream_id, outcome.error_message)

    def status(self, task_id: str) -> Observation:
        outcome = self.client.task_status(task_id)
        if outcome.info is not None:
            return _observed(outcome.info)
        return Observation(None, error_message=outcome.error_message, not_found=outcome.not_found)

    def active(self) -> Mapping[str, Observation] | None:
        try:
            tasks = self.client.active_tasks()
        except DroveError:
            return None
        return {task_id: _observed(info) for task_id, info in tasks.items()}

    def kill(self, task_id: str) -> tuple[bool, str]:
        answer = self.client.kill_task(task_id)
        return answer.success, answer.message

    def delete(self, upstream_id: str) -> bool:
        return self.client.delete_task(upstream_id)

    def log_link(self, upstream_id: str) -> str | None:
        return self.client.log_link(upstream_id)


def _observed(info: TaskInfo) -> Observation:
    return Observation(info.state, info.task_id, info.error_message)


_lock = threading.Lock()
_gateway: DroveGateway | None = None


def node_gateway() -> DroveGateway:
    """This process's gateway to the configured Drove cluster."""
    global _gateway
    with _lock:
        if _gateway is None:
            _gateway = DroveGateway(DroveClient(settings.EPOCH.drove))
        return _gateway
