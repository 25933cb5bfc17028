"""Epoch's domain: topologies, their runs and each run's task records, as plain immutable values.

Pure Python (no Django, no kazoo) so that the scheduling core, the codec and both storage backends
share one vocabulary. Enum values are the original's exact wire values. Dates are epoch
milliseconds, as on the wire. A container task keeps its Drove sub-objects (executable, resources,
volumes, ...) as the codec's canonical JSON, because Epoch passes them through to Drove unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


class TopologyState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DELETED = "DELETED"


class RunState(enum.StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    SUCCESSFUL = "SUCCESSFUL"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunState.RUNNING


class TaskState(enum.StrEnum):
    PENDING = "PENDING"
    STARTING = "STARTING"
    UNKNOWN = "UNKNOWN"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.CANCELLED, TaskState.FAILED)


class RunType(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    INSTANT = "INSTANT"


class TriggerType(enum.StrEnum):
    AT = "AT"
    CRON = "CRON"


class CompositionType(enum.StrEnum):
    ALL = "ALL"
    ANY = "ANY"


class NotificationType(enum.StrEnum):
    MAIL = "MAIL"
    BLACKHOLE = "BLACKHOLE"


UNKNOWN_UPSTREAM = "UNKNOWN"


@dataclass(frozen=True)
class ContainerTask:
    """One Docker task on Drove. ``spec`` holds the canonical JSON of every field but the name."""

    task_name: str | None
    spec: Mapping[str, Any] = field(default_factory=dict)

    @property
    def image(self) -> str | None:
        executable = self.spec.get("executable") or {}
        return executable.get("url")


@dataclass(frozen=True)
class CompositeTask:
    """Children run in order; ALL stops at the first failure, ANY at the first success."""

    tasks: tuple[Task, ...]
    composition: CompositionType = CompositionType.ALL


Task = ContainerTask | CompositeTask


def container_tasks(task: Task) -> Iterator[ContainerTask]:
    """Every container task of the tree, depth-first in list order (the run's ``tasks`` order)."""
    if isinstance(task, ContainerTask):
        yield task
        return
    for child in task.tasks:
        yield from container_tasks(child)


@dataclass(frozen=True)
class CronTrigger:
    time_spec: str

    type = TriggerType.CRON


@dataclass(frozen=True)
class AtTrigger:
    time: int  # epoch ms

    type = TriggerType.AT


Trigger = CronTrigger | AtTrigger


@dataclass(frozen=True)
class MailNotification:
    emails: tuple[str, ...]

    type = NotificationType.MAIL


@dataclass(frozen=True)
class BlackholeNotification:
    type = NotificationType.BLACKHOLE


Notification = MailNotification | BlackholeNotification


@dataclass(frozen=True)
class Topology:
    """The definition a user submits (``EpochTopology``). The id is the name."""

    name: str
    task: Task
    trigger: Trigger
    notify: Notification | None = None


@dataclass(frozen=True)
class TopologyDetails:
    """A stored topology (``EpochTopologyDetails``)."""

    id: str
    topology: Topology
    state: TopologyState
    created: int
    updated: int

    def with_state(self, state: TopologyState, now_ms: int) -> TopologyDetails:
        return replace(self, state=state, updated=now_ms)


@dataclass(frozen=True)
class TaskRecord:
    """One container task inside a run (``EpochTopologyRunTaskInfo``)."""

    task_id: str
    state: TaskState
    upstream_id: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """One execution of a topology (``EpochTopologyRunInfo``); ``tasks`` keeps tree order."""

    topology_id: str
    run_id: str
    state: RunState
    message: str
    tasks: Mapping[str, TaskRecord]
    run_type: RunType
    created: int
    updated: int

    def with_task(self, name: str, record: TaskRecord, now_ms: int) -> RunInfo:
        tasks = {**self.tasks, name: record}
        return replace(self, tasks=tasks, updated=now_ms)

    def finished(self, state: RunState, message: str, now_ms: int) -> RunInfo:
        return replace(self, state=state, message=message, updated=now_ms)


def task_id_for(topology_id: str, run_id: str, task_name: str) -> str:
    """The Epoch task id, which is also the Drove task id: ``<topologyId>-<runId>-<taskName>``."""
    return f"{topology_id}-{run_id}-{task_name}"
