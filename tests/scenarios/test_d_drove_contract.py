"""D. Drove client contract (scenarios.md 74-78, 81, 83), observed at the simulator and through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.scenarios.conftest import APP, Epoch, cron_topology, one_step, scripted, task_id

TOPO = "TEST_TOPO-1"
OPERATIONS = "POST /apis/v1/tasks/operations"
ATTACH_UNASCERTAINED = (
    "Could not ascertain if task has started or not. Please check drove logs for status"
)
STATUS_UNASCERTAINED = "Status could not be ascertained. Task might not have started yet"


def headers(request: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in request["headers"].items()}


def seed_running_task(epoch: Epoch, task: str) -> None:
    """Put a RUNNING task with this id on the simulator (its control interface), lasting 1 h."""
    seeded: dict[str, Any] = {
        "sourceAppName": APP,
        "taskId": task,
        "state": "RUNNING",
        "spec": {"env": scripted(duration="1h")},
    }
    response = requests.post(f"{epoch.simulator.url}/_sim/tasks", json=seeded, timeout=10)
    assert response.status_code == 200, response.text


def test_create_kill_and_delete_calls_carry_the_contract(
    start_epoch: Callable[..., Epoch],
) -> None:
    """Scenarios 74 (with drove.username/password admin/admin) and 83 (one endpoint, no ping)."""
    epoch = start_epoch(drove_credentials=("admin", "admin"))
    run = epoch.start_long_run()
    assert epoch.kill(TOPO, run)["status"] == "SUCCESS"
    epoch.settle()
    assert epoch.delete(TOPO) is True  # cleans the finished task's Drove record
    (create,) = epoch.creates()
    assert {k: v for k, v in headers(create).items() if k in ("content-type", "accept")} == {
        "content-type": "application/json",
        "accept": "application/json",
    }
    body = create["body"]
    assert body["type"] == "CREATE"
    assert body["opSpec"] == {"timeout": "300 seconds", "parallelism": 1, "failureStrategy": "STOP"}
    spec = body["spec"]
    assert (spec["sourceAppName"], spec["taskId"], spec["devices"]) == (
        APP,
        task_id(TOPO, run),
        [],
    )
    calls = epoch.simulator.requests()
    kinds = {(r["method"], (r["body"] or {}).get("type", "")) for r in calls}
    assert kinds >= {("POST", "CREATE"), ("POST", "KILL"), ("GET", ""), ("DELETE", "")}
    assert {headers(r).get("authorization") for r in calls} == {"Basic YWRtaW46YWRtaW4="}
    assert epoch.simulator.requests(path="/apis/v1/ping") == []


TEST_FAILURE = {"status": "FAILED", "message": "Test failure"}  # the scenarios' answer body


@pytest.mark.parametrize("status", [500, 200])
def test_create_answered_with_an_error_fails_the_task(epoch: Epoch, status: int) -> None:
    """Scenario 75: CREATE answered 500, or 200 with a FAILED envelope."""
    epoch.create(cron_topology())
    epoch.fault(mode="status", status=status, body=TEST_FAILURE, match=OPERATIONS, remaining=1)
    epoch.advance_to(5)
    (run,) = epoch.runs()
    task = run["tasks"]["test-task-1"]
    assert (run["state"], task["state"], task["upstreamId"]) == ("FAILED", "FAILED", "UNKNOWN")
    assert task["errorMessage"] == (
        f'Received error from api: [{status}] {{"status":"FAILED","message":"Test failure"}}'
    )
    assert len(epoch.creates()) == 1  # an answered CREATE is not sent again


def test_create_of_a_task_drove_already_runs_attaches_to_it(epoch: Epoch) -> None:
    """Scenario 76: the simulator already runs a task with the run's task id."""
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    upstream = task_id(TOPO, run)
    seed_running_task(epoch, upstream)
    epoch.advance_to(5, one_step)
    assert epoch.run(TOPO, run)["tasks"]["test-task-1"] == {
        "taskId": upstream,
        "state": "RUNNING",
        "upstreamId": upstream,
        "errorMessage": "",
    }
    (create,) = epoch.creates()
    assert create["answer"]["status"] == 400
    (error,) = create["answer"]["body"]["data"]["validationErrors"]
    assert error.startswith("Task already exists")
    assert len(epoch.simulator.store.tasks()) == 1
    epoch.finish_on_drove(upstream)
    epoch.settle()
    finished = epoch.run(TOPO, run)
    assert (finished["state"], finished["tasks"]["test-task-1"]["state"]) == (
        "SUCCESSFUL",
        "COMPLETED",
    )


def test_attach_when_every_read_fails_leaves_the_task_unknown(epoch: Epoch) -> None:
    """Scenario 77: as 76, but every GET fails (the list and the task)."""
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    upstream = task_id(TOPO, run)
    seed_running_task(epoch, upstream)
    epoch.fault(mode="status", status=500, match="GET /apis/v1/tasks")
    epoch.advance_to(5, one_step)
    task = epoch.run(TOPO, run)["tasks"]["test-task-1"]
    assert (task["state"], task["upstreamId"], task["errorMessage"]) == (
        "UNKNOWN",
        upstream,
        ATTACH_UNASCERTAINED,
    )
    reads = epoch.simulator.requests("GET", f"/instances/{upstream}")
    assert len(reads) > 1  # read again within the retry budget


@pytest.mark.parametrize("status", [404, 502], ids=["404", "malformed-body"])
def test_unreadable_task_becomes_unknown_after_the_retry_budget(epoch: Epoch, status: int) -> None:
    """Scenario 78: reads of a task that left Drove's active list answered 404 / an HTML page."""
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    epoch.fault(mode="status", status=status, match="GET /apis/v1/tasks/epoch-test/instances/")
    epoch.advance_to(5, epoch.task_in_state(TOPO, run, "UNKNOWN"))
    task = epoch.run(TOPO, run)["tasks"]["test-task-1"]
    assert task["errorMessage"] == STATUS_UNASCERTAINED
    assert len(epoch.simulator.requests("GET", "/instances/")) >= 3  # rpcRetryCount failed reads
    epoch.simulator.faults.clear()
    epoch.settle()
    assert epoch.run(TOPO, run)["tasks"]["test-task-1"]["state"] == "COMPLETED"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"mode": "status", "status": 200}, "Task cancellation failed with error: Test failure"),
        ({"mode": "status", "status": 400}, "Task cancellation failed with error: Test failure"),
        (
            {"mode": "status", "status": 500, "body": TEST_FAILURE},
            'Task cancellation failed with status: [500] {"status":"FAILED","message":"Test failure"}',
        ),
        ({"mode": "drop"}, "Could not send kill command to drove"),
    ],
    ids=["200-failed", "400-failed", "500", "no-response"],
)
def test_refused_kill_is_reported_by_the_kill_endpoint(
    epoch: Epoch, fault: dict[str, Any], reason: str
) -> None:
    """Scenario 81: KILL answers other than success, as `POST .../kill` reports them."""
    run = epoch.start_long_run()
    epoch.fault(match=OPERATIONS, remaining=1, **fault)
    assert epoch.kill(TOPO, run) == {
        "status": "FAILED",
        "data": {"success": False, "message": reason},
        "message": f"Could not cancel task {TOPO}/{run}/test-task-1. Error: {reason}",
    }
    epoch.step()
    assert epoch.run(TOPO, run)["tasks"]["test-task-1"]["state"] == "RUNNING"
