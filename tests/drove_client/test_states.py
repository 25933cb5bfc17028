"""The Drove -> Epoch task state mapping (epoch-model.md §12.4), as a pure function."""

from __future__ import annotations

import pytest

from drove_client.results import TaskInfo
from drove_client.states import (
    STOPPED_WITHOUT_RESULT,
    TaskState,
    epoch_error_message,
    epoch_state,
)

MATRIX = [
    ("PENDING", None, TaskState.STARTING),
    ("PROVISIONING", None, TaskState.STARTING),
    ("STARTING", None, TaskState.STARTING),
    ("RUNNING", None, TaskState.RUNNING),
    ("RUN_COMPLETED", "SUCCESSFUL", TaskState.RUNNING),
    ("RUN_COMPLETED", "FAILED", TaskState.RUNNING),
    ("DEPROVISIONING", "CANCELLED", TaskState.RUNNING),
    ("PROVISIONING_FAILED", None, TaskState.FAILED),
    ("RUN_FAILED", "FAILED", TaskState.FAILED),
    ("LOST", "LOST", TaskState.FAILED),
    ("LOST", None, TaskState.FAILED),
    ("STOPPED", "SUCCESSFUL", TaskState.COMPLETED),
    ("STOPPED", "CANCELLED", TaskState.CANCELLED),
    ("STOPPED", "FAILED", TaskState.FAILED),
    ("STOPPED", "TIMED_OUT", TaskState.FAILED),
    ("STOPPED", "LOST", TaskState.FAILED),
    ("STOPPED", "SOMETHING_NEW", TaskState.FAILED),
    ("STOPPED", None, TaskState.FAILED),
    ("UNKNOWN", None, TaskState.UNKNOWN),
    ("HIBERNATING", None, TaskState.UNKNOWN),
]


@pytest.mark.parametrize(("drove_state", "result", "expected"), MATRIX)
def test_drove_state_maps_to_epoch_state(
    drove_state: str, result: str | None, expected: TaskState
) -> None:
    assert epoch_state(drove_state, result) is expected


def test_enum_values_are_read_case_insensitively() -> None:
    assert epoch_state("stopped", "successful") is TaskState.COMPLETED
    assert epoch_state("Running", None) is TaskState.RUNNING


def test_epoch_task_states_have_exactly_the_wire_values() -> None:
    assert [s.value for s in TaskState] == [
        "PENDING",
        "STARTING",
        "UNKNOWN",
        "RUNNING",
        "COMPLETED",
        "CANCELLED",
        "FAILED",
    ]
    assert {s for s in TaskState if s.is_terminal} == {
        TaskState.COMPLETED,
        TaskState.CANCELLED,
        TaskState.FAILED,
    }


def test_stopped_without_result_and_message_gets_epochs_message() -> None:
    assert epoch_error_message("STOPPED", None, "") == STOPPED_WITHOUT_RESULT
    assert STOPPED_WITHOUT_RESULT == "Task stopped on drove without a result"


def test_stopped_without_result_keeps_droves_message() -> None:
    message = "Error while pulling image ghcr.io/x:1: manifest unknown"
    assert epoch_error_message("STOPPED", None, message) == message


def test_other_states_copy_droves_message_as_is() -> None:
    assert epoch_error_message("STOPPED", "FAILED", "") == ""
    assert epoch_error_message("RUNNING", None, "x") == "x"


def test_task_info_maps_a_finished_drove_record() -> None:
    record = {
        "sourceAppName": "TEST_APP",
        "taskId": "T0012",
        "instanceId": "TI-6cf36f5c-6480-4ed5-9e2d-f79d9648529a",
        "hostname": "ppessdev",
        "state": "STOPPED",
        "metadata": {},
        "taskResult": {"status": "FAILED", "exitCode": 3},
        "errorMessage": "Task instance exited with status: 3",
        "created": 1719823470267,
        "updated": 1719823483836,
    }
    info = TaskInfo.from_drove(record)
    assert (info.app_name, info.task_id, info.drove_state) == ("TEST_APP", "T0012", "STOPPED")
    assert info.state is TaskState.FAILED
    assert (info.result_status, info.exit_code) == ("FAILED", 3)
    assert info.error_message == "Task instance exited with status: 3"
    assert (info.hostname, info.created_ms, info.updated_ms) == (
        "ppessdev",
        1719823470267,
        1719823483836,
    )


def test_task_info_needs_an_id_and_a_state() -> None:
    with pytest.raises(ValueError, match="taskId or state"):
        TaskInfo.from_drove({"taskId": "x"})
