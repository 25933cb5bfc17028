"""The run and task state machines (epoch-model.md §12, §15): pure decisions, no I/O.

A run is written ``RUNNING`` ("Job started") with every container task ``PENDING``; the task tree
is then walked from the recorded task states alone, so a new leader continues any run exactly where
the record says it stands. Terminal run and task states never change again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from topologies.domain import (
    CompositeTask,
    CompositionType,
    ContainerTask,
    RunInfo,
    RunState,
    RunType,
    Task,
    TaskRecord,
    TaskState,
    TopologyDetails,
    TopologyState,
    TriggerType,
    container_tasks,
    task_id_for,
)

JOB_STARTED = "Job started"
COMPOSITE_ANY_FAILED = "Unknown status for composite task"


def new_run(details: TopologyDetails, run_id: str, run_type: RunType, now_ms: int) -> RunInfo:
    """The first record of a run: RUNNING, every container task PENDING, in tree order."""
    tasks = {
        task.task_name or "": TaskRecord(
            task_id_for(details.id, run_id, task.task_name or ""), TaskState.PENDING
        )
        for task in container_tasks(details.topology.task)
    }
    return RunInfo(
        topology_id=details.id,
        run_id=run_id,
        state=RunState.RUNNING,
        message=JOB_STARTED,
        tasks=tasks,
        run_type=run_type,
        created=now_ms,
        updated=now_ms,
    )


@dataclass(frozen=True)
class StartTask:
    """Send the CREATE for this PENDING task (idempotent: "already exists" re-attaches)."""

    task_name: str


@dataclass(frozen=True)
class FollowTask:
    """Poll this started task until it ends."""

    task_name: str


@dataclass(frozen=True)
class TreeDone:
    """The tree has an outcome: the root's state, and the error that decided it if any."""

    state: TaskState
    error: str | None = None


NextStep = StartTask | FollowTask | TreeDone


def next_step(task: Task, records: Mapping[str, TaskRecord]) -> NextStep:
    """What to do next for the tree ``task`` given the run's task records (§15.2)."""
    if isinstance(task, ContainerTask):
        return _container_step(records.get(task.task_name or ""), task.task_name or "")
    if task.composition is CompositionType.ALL:
        return _all_step(task, records)
    return _any_step(task, records)


def _container_step(record: TaskRecord | None, name: str) -> NextStep:
    if record is None or record.state is TaskState.PENDING:
        return StartTask(name)
    if record.state.is_terminal:
        return TreeDone(record.state, record.error_message or None)
    return FollowTask(name)


def _all_step(task: CompositeTask, records: Mapping[str, TaskRecord]) -> NextStep:
    for child in task.tasks:
        step = next_step(child, records)
        if not isinstance(step, TreeDone):
            return step
        if step.state in (TaskState.FAILED, TaskState.CANCELLED):
            return step
    return TreeDone(TaskState.COMPLETED)


def _any_step(task: CompositeTask, records: Mapping[str, TaskRecord]) -> NextStep:
    for child in task.tasks:
        step = next_step(child, records)
        if not isinstance(step, TreeDone) or step.state is TaskState.COMPLETED:
            return step
    return TreeDone(TaskState.FAILED, COMPOSITE_ANY_FAILED)


def success_state(run_type: RunType, trigger_type: TriggerType) -> RunState:
    """CRON scheduled runs end SUCCESSFUL; AT and instant runs end COMPLETED (§12.2)."""
    if run_type is RunType.SCHEDULED and trigger_type is TriggerType.CRON:
        return RunState.SUCCESSFUL
    return RunState.COMPLETED


def final_state(root: TaskState, run_type: RunType, trigger_type: TriggerType) -> RunState:
    if root is TaskState.COMPLETED:
        return success_state(run_type, trigger_type)
    return RunState.FAILED


def final_message(state: RunState) -> str:
    """``"Task " + lower-case state``, as the original wrote it."""
    return f"Task {state.value.lower()}"


def internal_error_message(error: str) -> str:
    return f"Task Failed with error: {error}"


def skip_before_start(topology_state: TopologyState, run_type: RunType) -> RunState | None:
    """A run that must not start: SKIPPED when its topology is paused, COMPLETED when deleted."""
    if topology_state is TopologyState.DELETED:
        return RunState.COMPLETED
    if topology_state is TopologyState.PAUSED and run_type is RunType.SCHEDULED:
        return RunState.SKIPPED
    return None
