from __future__ import annotations

from scheduler.core.tasks import (
    NOT_ASCERTAINED,
    Limits,
    Observation,
    TaskWatch,
    create_never_acknowledged,
    next_record,
)
from topologies.domain import TaskRecord, TaskState

LIMITS = Limits(retry_count=3, missing_task_timeout_ms=600_000)
STARTED = TaskRecord("t-1", TaskState.STARTING, "t-1", "")


def test_an_answer_from_drove_is_recorded_with_its_message() -> None:
    seen = Observation(TaskState.FAILED, "t-1", "Task instance exited with status: 3")
    after = next_record(STARTED, seen, TaskWatch(), 0, LIMITS)
    assert after == TaskRecord(
        "t-1", TaskState.FAILED, "t-1", "Task instance exited with status: 3"
    )


def test_short_blips_leave_the_record_alone() -> None:
    watch = TaskWatch()
    for now in (1, 2):
        assert next_record(STARTED, Observation(None), watch, now, LIMITS) is STARTED


def test_unknown_only_after_the_retry_budget() -> None:
    watch = TaskWatch()
    record = STARTED
    for now in (1, 2, 3):
        record = next_record(record, Observation(None), watch, now, LIMITS)
    assert record == TaskRecord("t-1", TaskState.UNKNOWN, "t-1", NOT_ASCERTAINED)


def test_an_answer_resets_the_failure_count() -> None:
    watch = TaskWatch()
    next_record(STARTED, Observation(None), watch, 1, LIMITS)
    next_record(STARTED, Observation(None), watch, 2, LIMITS)
    next_record(STARTED, Observation(TaskState.RUNNING, "t-1"), watch, 3, LIMITS)
    assert next_record(STARTED, Observation(None), watch, 4, LIMITS) is STARTED


def test_transport_error_message_is_kept_when_it_turns_unknown() -> None:
    watch = TaskWatch(failures=2)
    seen = Observation(None, error_message="Error getting task status: boom")
    assert (
        next_record(STARTED, seen, watch, 1, LIMITS).error_message
        == "Error getting task status: boom"
    )


def test_a_task_drove_never_knows_fails_after_the_missing_timeout() -> None:
    watch = TaskWatch()
    unknown = Observation(None, not_found=True)
    record = next_record(STARTED, unknown, watch, 0, LIMITS)
    record = next_record(record, unknown, watch, 300_000, LIMITS)
    record = next_record(record, unknown, watch, 599_999, LIMITS)
    assert record.state is TaskState.UNKNOWN
    record = next_record(record, unknown, watch, 600_000, LIMITS)
    assert record == TaskRecord(
        "t-1", TaskState.FAILED, "t-1", "Task not found on drove after 600 seconds"
    )


def test_upstream_id_defaults_to_the_task_id() -> None:
    pending = TaskRecord("t-1", TaskState.PENDING)
    after = next_record(pending, Observation(TaskState.STARTING), TaskWatch(), 0, LIMITS)
    assert after.upstream_id == "t-1"


def test_an_unanswered_create_is_sent_again_once_drove_says_it_never_saw_it() -> None:
    lost = TaskRecord("t-1", TaskState.UNKNOWN, "t-1", "No response from drove")
    broken = TaskRecord(
        "t-1",
        TaskState.UNKNOWN,
        "t-1",
        "Error making http call to /apis/v1/tasks/operations: reset",
    )
    unknown_to_drove = Observation(None, not_found=True)
    assert create_never_acknowledged(lost, unknown_to_drove)
    assert create_never_acknowledged(broken, unknown_to_drove)
    assert not create_never_acknowledged(lost, Observation(None))  # Drove still silent: wait
    started = TaskRecord("t-1", TaskState.UNKNOWN, "t-1", NOT_ASCERTAINED)
    assert not create_never_acknowledged(started, unknown_to_drove)  # it was acknowledged once
