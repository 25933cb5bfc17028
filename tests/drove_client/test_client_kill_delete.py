"""Killing tasks (CancelResponse texts of drove-api.md §9.4), deleting records, log links."""

from __future__ import annotations

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator, Fault
from drove_client.states import TaskState
from epoch_site.durations import Duration
from tests.drove_client.conftest import APP, drove_config, scripted, wait_for

KILL = "POST /apis/v1/tasks/operations"


def running_task(client: DroveClient, task_id: str = "t1") -> None:
    client.start_task(task_id, scripted("success", DROVE_SIM_DURATION="10s"))
    wait_for(lambda: client.task_status(task_id).state, lambda s: s is TaskState.RUNNING)


def test_kill_of_a_running_task_is_accepted_and_ends_cancelled(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    running_task(client)
    response = client.kill_task("t1")
    assert (response.success, response.message) == (True, "Task cancel accepted")
    assert response.to_json() == {"success": True, "message": "Task cancel accepted"}
    final = wait_for(lambda: client.task_status("t1"), lambda s: s.state.is_terminal)
    assert final.state is TaskState.CANCELLED
    assert final.error_message == ""
    [kill] = [r for r in simulator.requests(method="POST") if r["body"]["type"] == "KILL"]
    assert kill["body"] == {
        "type": "KILL",
        "sourceAppName": APP,
        "taskId": "t1",
        "opSpec": {"timeout": "300 seconds", "parallelism": 1, "failureStrategy": "STOP"},
    }


def test_kill_of_a_finished_task_reports_droves_message(client: DroveClient) -> None:
    client.start_task("t1", scripted("success"))
    wait_for(lambda: client.task_status("t1").state, lambda s: s.is_terminal)
    response = client.kill_task("t1")
    assert response.success is False
    assert response.message == "Task cancellation failed with error: Command validation failure"
    assert "Either task does not exist or has already finished for epoch-1/t1" in response.detail


def test_kill_answered_200_failed(client: DroveClient, simulator: DroveSimulator) -> None:
    simulator.add_fault(Fault("status", status=200, match=KILL))
    response = client.kill_task("t1")
    assert (response.success, response.message) == (
        False,
        "Task cancellation failed with error: Test failure",
    )


def test_kill_answered_500_reports_status_and_body(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    simulator.add_fault(Fault("status", status=500, match=KILL))
    response = client.kill_task("t1")
    assert response.success is False
    assert response.message == (
        "Task cancellation failed with status: [500] "
        '{"status":"FAILED","data":{"failure":"Test failure"},"message":"Unexpected Server error"}'
    )


def test_kill_without_a_response(simulator: DroveSimulator) -> None:
    with DroveClient(drove_config([simulator.url])) as client:
        simulator.refuse()
        response = client.kill_task("t1")
    assert (response.success, response.message) == (False, "Could not send kill command to drove")


def test_kill_answered_after_the_timeout(simulator: DroveSimulator) -> None:
    config = drove_config([simulator.url], operation_timeout=Duration(100, "milliseconds"))
    simulator.add_fault(Fault("delay", delay_s=0.4, match=KILL))
    with DroveClient(config) as client:
        response = client.kill_task("t1")
    assert (response.success, response.message) == (False, "Could not send kill command to drove")
    assert len(simulator.requests(method="POST")) == 1  # a possibly delivered KILL is not re-sent


def test_delete_is_idempotent(client: DroveClient, simulator: DroveSimulator) -> None:
    client.start_task("t1", scripted("success"))
    wait_for(lambda: client.task_status("t1").state, lambda s: s.is_terminal)
    assert client.delete_task("t1") is True
    assert client.task_status("t1").not_found
    assert client.delete_task("t1") is True
    assert client.delete_task("never-existed") is True


def test_delete_reports_droves_storage_error(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    simulator.settings.delete_fails = True
    assert client.delete_task("t1") is False


def test_delete_without_an_answer_is_false(simulator: DroveSimulator) -> None:
    with DroveClient(drove_config([simulator.url])) as client:
        simulator.refuse()
        assert client.delete_task("t1") is False


@pytest.mark.parametrize("upstream_id", [None, "", "UNKNOWN"])
def test_delete_of_a_task_never_started_sends_nothing(
    client: DroveClient, simulator: DroveSimulator, upstream_id: str | None
) -> None:
    assert client.delete_task(upstream_id) is True
    assert simulator.requests() == []


def test_log_link_points_at_droves_task_page_on_the_leader(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    link = client.log_link("t1")
    assert link == f"{simulator.url}/tasks/{APP}/t1"
    assert client.log_link("UNKNOWN") is None
    assert client.log_link(None) is None


def test_log_link_target_is_served(client: DroveClient, simulator: DroveSimulator) -> None:
    running_task(client)
    link = client.log_link("t1")
    assert link is not None
    page = client.transport.get(link)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.data.decode()
    assert "epoch-1/t1" in text and "RUNNING" in text
