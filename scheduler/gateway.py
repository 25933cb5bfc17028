"""What the scheduler needs from Drove, as one small interface over the Drove client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from scheduler.core.tasks import Observation
from topologies.domain import ContainerTask


class TaskGateway(Protocol):
    def start(self, task_id: str, task: ContainerTask) -> Observation:
        """CREATE the task (retrying what the spec retries); "already exists" re-attaches."""
        ...

    def status(self, task_id: str) -> Observation:
        """One read of the task's state."""
        ...

    def active(self) -> Mapping[str, Observation] | None:
        """Every task Drove is running, in one call; None when Drove could not be read."""
        ...

    def kill(self, task_id: str) -> tuple[bool, str]:
        """Ask Drove to kill the task: (accepted, message)."""
        ...

    def delete(self, upstream_id: str) -> bool:
        """Delete the task's record on Drove."""
        ...
