"""Reading tasks: one task's state, the batched active list, and the full life cycles."""

from __future__ import annotations

from typing import Any

import pytest

from drove_client.client import DroveClient
from drove_client.errors import DroveAnswerError, DroveUnreachable
from drove_client.simulator import DroveSimulator, Fault
from drove_client.states import TaskState
from epoch_site.durations import Duration
from tests.drove_client.conftest import APP, drove_config, scripted, wait_for

UNASCERTAINED = "Status could not be ascertained. Task might not have started yet"

# (Drove state, taskResult, Drove errorMessage) -> (Epoch state, Epoch errorMessage)
SEEDED_MATRIX: list[tuple[str, dict[str, Any] | None, str, TaskState, str]] = [
    ("PENDING", None, "", TaskState.STARTING, ""),
    ("PROVISIONING", None, "", TaskState.STARTING, ""),
    ("STARTING", None, "", TaskState.STARTING, ""),
    ("RUNNING", None, "", TaskState.RUNNING, ""),
    ("RUN_COMPLETED", {"status": "SUCCESSFUL", "exitCode": 0}, "", TaskState.RUNNING, ""),
    ("DEPROVISIONING", {"status": "FAILED", "exitCode": 2}, "x", TaskState.RUNNING, "x"),
    (
        "PROVISIONING_FAILED",
        None,
        "Error while pulling image a: b",
        TaskState.FAILED,
        "Error while pulling image a: b",
    ),
    ("RUN_FAILED", {"status": "FAILED", "exitCode": -1}, "boom", TaskState.FAILED, "boom"),
    (
        "LOST",
        {"status": "LOST", "exitCode": -1},
        "Instance lost",
        TaskState.FAILED,
        "Instance lost",
    ),
    ("STOPPED", {"status": "SUCCESSFUL", "exitCode": 0}, "", TaskState.COMPLETED, ""),
    ("STOPPED", {"status": "CANCELLED", "exitCode": -1}, "", TaskState.CANCELLED, ""),
    (
        "STOPPED",
        {"status": "FAILED", "exitCode": 3},
        "Task instance exited with status: 3",
        TaskState.FAILED,
        "Task instance exited with status: 3",
    ),
    ("STOPPED", {"status": "TIMED_OUT", "exitCode": -1}, "", TaskState.FAILED, ""),
    ("STOPPED", {"status": "LOST", "exitCode": -1}, "lost", TaskState.FAILED, "lost"),
    ("STOPPED", None, "", TaskState.FAILED, "Task stopped on drove without a result"),
    (
        "STOPPED",
        None,
        "Error while pulling image a: b",
        TaskState.FAILED,
        "Error while pulling image a: b",
    ),
    ("UNKNOWN", None, "", TaskState.UNKNOWN, ""),
]


@pytest.mark.parametrize(
    ("drove_state", "result", "message", "state", "epoch_message"), SEEDED_MATRIX
)
def test_status_maps_what_drove_reports(
    client: DroveClient,
    simulator: DroveSimulator,
    drove_state: str,
    result: dict[str, Any] | None,
    message: str,
    state: TaskState,
    epoch_message: str,
) -> None:
    simulator.store.seed(
        {"sourceAppName": APP, "taskId": "t1", "executable": {}, "resources": []},
        drove_state,
        result=result,
        error_message=message,
        hold=True,
    )
    outcome = client.task_status("t1")
    assert outcome.answered
    assert outcome.state is state
    assert outcome.error_message == epoch_message
    assert outcome.info is not None and outcome.info.drove_state == drove_state


@pytest.mark.parametrize(
    ("outcome", "env", "state", "message"),
    [
        ("success", {}, TaskState.COMPLETED, ""),
        (
            "fail",
            {"DROVE_SIM_EXIT_CODE": "3"},
            TaskState.FAILED,
            "Task instance exited with status: 3",
        ),
        (
            "pull-failure",
            {},
            TaskState.FAILED,
            "Error while pulling image ghcr.io/acme/report-job:1.4.2: manifest unknown",
        ),
        ("start-failure", {}, TaskState.FAILED, "Error creating container"),
        ("vanish", {}, TaskState.FAILED, "Task instance lost for container: "),
        ("lost", {}, TaskState.FAILED, "Instance lost"),
    ],
)
def test_each_scripted_outcome_ends_in_the_mapped_epoch_state(
    client: DroveClient, outcome: str, env: dict[str, str], state: TaskState, message: str
) -> None:
    assert client.start_task("t1", scripted(outcome, **env)).state is TaskState.STARTING
    final = wait_for(lambda: client.task_status("t1"), lambda s: s.state.is_terminal)
    assert final.state is state
    assert final.error_message.startswith(message)
    assert bool(final.error_message) == bool(message)


def test_exit_code_alone_makes_a_task_fail(client: DroveClient) -> None:
    client.start_task("t1", scripted("", DROVE_SIM_EXIT_CODE="7"))
    final = wait_for(lambda: client.task_status("t1"), lambda s: s.state.is_terminal)
    assert final.state is TaskState.FAILED
    assert final.info is not None and final.info.exit_code == 7


def test_a_task_drove_does_not_know_is_not_found(client: DroveClient) -> None:
    outcome = client.task_status("nobody")
    assert outcome.state is TaskState.UNKNOWN
    assert outcome.not_found and not outcome.answered
    assert outcome.error_message == UNASCERTAINED
    assert "No such task instance epoch-1/nobody" in outcome.detail


def test_never_scheduled_task_stays_not_found(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    assert client.start_task("t1", scripted("never-scheduled")).state is TaskState.STARTING
    wait_for(lambda: simulator.store.tasks() == [])  # the start job gave up silently
    assert client.task_status("t1").not_found


def test_no_answer_is_unknown_but_not_not_found(simulator: DroveSimulator) -> None:
    with DroveClient(drove_config([simulator.url])) as client:
        simulator.refuse()
        outcome = client.task_status("t1")
    assert outcome.state is TaskState.UNKNOWN
    assert not outcome.not_found
    assert outcome.error_message == UNASCERTAINED
    assert "no response" in outcome.detail


@pytest.mark.parametrize("status", [500, 503, 401])
def test_an_error_answer_is_unknown(
    client: DroveClient, simulator: DroveSimulator, status: int
) -> None:
    simulator.add_fault(Fault("status", status=status, match="GET /apis/v1/tasks/"))
    outcome = client.task_status("t1")
    assert (outcome.state, outcome.error_message, outcome.not_found) == (
        TaskState.UNKNOWN,
        UNASCERTAINED,
        False,
    )
    assert f"[{status}]" in outcome.detail


def test_a_read_slower_than_the_timeout_is_unknown(simulator: DroveSimulator) -> None:
    config = drove_config([simulator.url], operation_timeout=Duration(100, "milliseconds"))
    simulator.add_fault(Fault("delay-before", delay_s=0.4, match="GET"))
    with DroveClient(config) as client:
        outcome = client.task_status("t1")
    assert outcome.state is TaskState.UNKNOWN
    assert "timed out" in outcome.detail


def test_active_tasks_lists_this_deployments_running_tasks_in_one_call(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    for task_id in ("a", "b"):
        client.start_task(task_id, scripted("success", DROVE_SIM_DURATION="5s"))
    simulator.store.seed({"sourceAppName": "other-app", "taskId": "x"}, "RUNNING", hold=True)
    simulator.store.seed({"sourceAppName": APP, "taskId": "done"}, "STOPPED", hold=True)
    simulator.clear_requests()
    active = wait_for(client.active_tasks, lambda tasks: len(tasks) == 2)
    assert set(active) == {"a", "b"}
    assert all(info.app_name == APP for info in active.values())
    assert all(info.state in (TaskState.STARTING, TaskState.RUNNING) for info in active.values())
    assert all(r["path"] == "/apis/v1/tasks" for r in simulator.requests())


def test_active_tasks_raises_typed_errors_without_an_answer(simulator: DroveSimulator) -> None:
    with DroveClient(drove_config([simulator.url])) as client:
        simulator.add_fault(Fault("status", status=500, match="GET /apis/v1/tasks", remaining=1))
        with pytest.raises(DroveAnswerError) as answer:
            client.active_tasks()
        assert answer.value.status == 500
        assert f"GET {simulator.url}/apis/v1/tasks" in str(answer.value)
        simulator.refuse()
        with pytest.raises(DroveUnreachable) as unreachable:
            client.active_tasks()
        assert unreachable.value.kind == "refused"
        assert not unreachable.value.delivered
