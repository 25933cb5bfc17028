"""What one observation of a task on Drove does to its record (epoch-model.md §12.3, §15.3).

A task record only changes on a real answer from Drove, or once the retry budget is spent: a few
failed polls in a row leave the record as it was, so short blips never flap it to UNKNOWN. A task
Drove keeps not knowing fails after the missing-task timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from topologies.domain import TaskRecord, TaskState

NOT_ASCERTAINED = "Status could not be ascertained. Task might not have started yet"


@dataclass(frozen=True)
class Observation:
    """One answer about a task: its mapped state, or why there is none."""

    state: TaskState | None  # None: Drove gave no usable answer
    upstream_id: str | None = None
    error_message: str = ""
    not_found: bool = False  # Drove answered "No such task instance"


@dataclass
class TaskWatch:
    """What the follower remembers about one task between observations."""

    failures: int = 0
    missing_since_ms: int | None = None


@dataclass(frozen=True)
class Limits:
    retry_count: int
    missing_task_timeout_ms: int


def next_record(
    record: TaskRecord, seen: Observation, watch: TaskWatch, now_ms: int, limits: Limits
) -> TaskRecord:
    """The task's record after ``seen``; the same record when nothing is to be written yet."""
    if seen.state is not None:
        watch.failures, watch.missing_since_ms = 0, None
        upstream = seen.upstream_id or record.upstream_id or record.task_id
        return TaskRecord(record.task_id, seen.state, upstream, seen.error_message)
    watch.failures += 1
    if seen.not_found:
        if watch.missing_since_ms is None:
            watch.missing_since_ms = now_ms
        missing_ms = now_ms - watch.missing_since_ms
        if missing_ms >= limits.missing_task_timeout_ms:
            message = (
                f"Task not found on drove after {limits.missing_task_timeout_ms // 1000} seconds"
            )
            return TaskRecord(record.task_id, TaskState.FAILED, record.upstream_id, message)
    if watch.failures < limits.retry_count:
        return record
    return TaskRecord(
        record.task_id, TaskState.UNKNOWN, record.upstream_id, seen.error_message or NOT_ASCERTAINED
    )


NO_RESPONSE = "No response from drove"
CREATE_CALL_FAILED = "Error making http call to /apis/v1/tasks/operations:"


def create_never_acknowledged(record: TaskRecord, seen: Observation) -> bool:
    """Drove never answered the task's CREATE and does not know it now: send the CREATE again.

    Safe because a duplicate CREATE is rejected with "already exists" and re-attached; without it
    a CREATE lost in a long Drove outage would only fail after the missing-task timeout.
    """
    message = record.error_message or ""
    unanswered = message == NO_RESPONSE or message.startswith(CREATE_CALL_FAILED)
    return seen.not_found and record.state is TaskState.UNKNOWN and unanswered
