"""C. Run execution (scenarios.md 55-73): runs and task records read back over HTTP.

Task outcomes are scripted through the simulator (task env ``DROVE_SIM_*``) and its faults; the
scheduler's clock only moves when a test advances it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.scenarios.conftest import (
    NEVER,
    Epoch,
    composite_topology,
    cron_topology,
    one_step,
    scripted,
    task_id,
)

TOPO = "TEST_TOPO-1"
IMAGE = "docker.io/santanusinha/perf-test-server:0.3"
INSTANCES = "/apis/v1/tasks/epoch-test/instances/"


def task_states(run: dict[str, Any]) -> list[str]:
    return [record["state"] for record in run["tasks"].values()]


def started_task_ids(epoch: Epoch) -> list[str]:
    return [create["body"]["spec"]["taskId"] for create in epoch.creates()]


def instance_reads(epoch: Epoch) -> list[dict[str, Any]]:
    return epoch.simulator.requests("GET", INSTANCES)


def test_task_not_found_then_server_error_then_success(epoch: Epoch) -> None:
    """Scenario 55: GET answers "No such task instance", then 500, then the task runs to exit 0."""
    epoch.create(cron_topology(env=scripted(start_delay="1h")))  # Drove keeps it unscheduled
    run = epoch.fire_id(5)
    upstream = task_id(TOPO, run)
    epoch.advance_to(5, lambda: len(instance_reads(epoch)) >= 1)  # answered "No such task"
    epoch.fault(mode="status", status=500, match=f"GET {INSTANCES}", remaining=1)
    epoch.settle(lambda: any(read["fault"] == "status" for read in instance_reads(epoch)))
    epoch.simulator.store.force(epoch.sim_task(upstream), "PROVISIONING")  # now it starts
    epoch.settle()
    finished = epoch.run(TOPO, run)
    assert (finished["state"], finished["message"]) == ("SUCCESSFUL", "Task successful")
    assert finished["tasks"]["test-task-1"] == {
        "taskId": upstream,
        "state": "COMPLETED",
        "upstreamId": upstream,
        "errorMessage": "",
    }
    assert [read["fault"] for read in instance_reads(epoch)][:2] == [None, "status"]


def test_instant_run_of_a_paused_topology_completes(epoch: Epoch) -> None:
    """Scenario 56."""
    epoch.create(cron_topology(cron=NEVER))
    epoch.pause(TOPO)
    run = epoch.run_now(TOPO)
    epoch.settle()
    finished = epoch.run(TOPO, run)
    assert (finished["state"], task_states(finished)) == ("COMPLETED", ["COMPLETED"])


def test_create_rejected_by_drove_fails_the_task(epoch: Epoch) -> None:
    """Scenario 58: 64 CPUs on a 12-core simulated cluster."""
    epoch.create(
        cron_topology(resources=[{"type": "CPU", "count": 64}, {"type": "MEMORY", "sizeInMB": 512}])
    )
    epoch.advance_to(5)
    (run,) = epoch.runs()
    task = run["tasks"]["test-task-1"]
    assert (run["state"], run["message"]) == ("FAILED", "Task failed")
    assert (task["state"], task["upstreamId"]) == ("FAILED", "UNKNOWN")
    assert task["errorMessage"].startswith("Received error from api: [400] {")
    assert "Cluster does not have enough CPU. Required: 64 Available: 12" in task["errorMessage"]


def test_composite_all_runs_its_tasks_one_after_another(epoch: Epoch) -> None:
    """Scenario 59: ALL of 10 successful tasks."""
    epoch.create(composite_topology(["success"] * 10))
    epoch.advance_to(5)
    (run,) = epoch.runs()
    assert run["state"] == "SUCCESSFUL"
    assert list(run["tasks"]) == [f"test-task-{i}" for i in range(1, 11)]
    assert task_states(run) == ["COMPLETED"] * 10
    creates = epoch.creates()
    assert started_task_ids(epoch) == [record["taskId"] for record in run["tasks"].values()]
    for previous, following in zip(creates, creates[1:], strict=False):
        stopped = epoch.sim_task(previous["body"]["spec"]["taskId"])
        assert stopped.history[-1] == "STOPPED"
        assert following["time"] >= (stopped.updated_ms or 0)


def test_composite_all_stops_at_the_first_failure(epoch: Epoch) -> None:
    """Scenario 60: odd tasks succeed, even tasks fail."""
    epoch.create(composite_topology(["success", "fail"] * 5))
    epoch.advance_to(5)
    (run,) = epoch.runs()
    assert (run["state"], task_states(run)) == ("FAILED", ["COMPLETED", "FAILED"] + ["PENDING"] * 8)
    assert len(epoch.creates()) == 2


@pytest.mark.parametrize(
    ("last_outcome", "run_state", "last_state"),
    [("success", "SUCCESSFUL", "COMPLETED"), ("fail", "FAILED", "FAILED")],
    ids=["last-succeeds", "none-succeeds"],
)
def test_composite_any(epoch: Epoch, last_outcome: str, run_state: str, last_state: str) -> None:
    """Scenario 61: ANY where only task 10 succeeds; ANY where none does."""
    epoch.create(composite_topology(["fail"] * 9 + [last_outcome], "ANY"))
    epoch.advance_to(5)
    (run,) = epoch.runs()
    assert (run["state"], task_states(run)) == (run_state, ["FAILED"] * 9 + [last_state])


def test_topology_deleted_just_before_its_fire(epoch: Epoch) -> None:
    """Scenario 62."""
    epoch.create(cron_topology())
    epoch.advance_to(4.999)
    epoch.delete(TOPO)
    for boundary in (5, 10, 15):
        epoch.advance_to(boundary)
    assert epoch.runs() == []
    assert epoch.creates() == []


@pytest.mark.parametrize(
    ("env", "error"),
    [
        (scripted("fail", exit_code="3"), re.escape("Task instance exited with status: 3")),
        (
            scripted("pull-failure"),
            re.escape(f"Error while pulling image {IMAGE}: manifest unknown"),
        ),
        (scripted("start-failure"), "Error creating container: .+"),
        (scripted("lost"), "Instance lost"),
    ],
    ids=["exit-3", "image-pull", "start-failure", "executor-lost"],
)
def test_failing_container_fails_task_and_run(
    epoch: Epoch, env: dict[str, str], error: str
) -> None:
    """Scenarios 64, 65, 66, 67: exit 3, image pull failure, RUN_FAILED, executor lost."""
    epoch.create(cron_topology(env=env))
    epoch.advance_to(5)
    (run,) = epoch.runs()
    task = run["tasks"]["test-task-1"]
    assert (run["state"], run["message"], task["state"]) == ("FAILED", "Task failed", "FAILED")
    assert re.fullmatch(error, task["errorMessage"]), task["errorMessage"]


def test_task_drove_never_schedules_fails_after_the_missing_task_timeout(epoch: Epoch) -> None:
    """Scenario 68: UNKNOWN until missingTaskTimeout (10 min), then FAILED."""
    epoch.create(cron_topology(env=scripted("never-scheduled")))
    run = epoch.fire_id(5)
    epoch.advance_to(5, epoch.task_in_state(TOPO, run, "UNKNOWN"))
    epoch.advance_to(5 + 599, one_step)
    assert epoch.run(TOPO, run)["tasks"]["test-task-1"]["state"] == "UNKNOWN"
    epoch.advance_to(5 + 600)
    finished = epoch.run(TOPO, run)
    assert (finished["state"], finished["tasks"]["test-task-1"]["errorMessage"]) == (
        "FAILED",
        "Task not found on drove after 600 seconds",
    )


def test_create_during_a_drove_outage_is_sent_again(epoch: Epoch) -> None:
    """Scenario 69: connections refused around CREATE, then Drove recovers."""
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    epoch.simulator.refuse()
    epoch.advance_to(5, epoch.task_in_state(TOPO, run, "UNKNOWN"))
    unanswered = epoch.run(TOPO, run)["tasks"]["test-task-1"]
    assert (unanswered["upstreamId"], unanswered["errorMessage"]) == (
        task_id(TOPO, run),
        "No response from drove",
    )
    epoch.simulator.restore()
    epoch.settle()
    finished = epoch.run(TOPO, run)
    assert (finished["state"], task_states(finished)) == ("SUCCESSFUL", ["COMPLETED"])
    assert [task.task_id for task in epoch.simulator.store.tasks()] == [task_id(TOPO, run)]


def test_create_answered_after_the_client_time_out_is_attached(epoch: Epoch) -> None:
    """Scenario 70: Drove accepts CREATE but answers after the client gave up."""
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    epoch.fault(mode="delay", delay_s=1.0, match="POST /apis/v1/tasks/operations", remaining=1)
    epoch.advance_to(5)
    finished = epoch.run(TOPO, run)
    assert (finished["state"], task_states(finished)) == ("SUCCESSFUL", ["COMPLETED"])
    assert started_task_ids(epoch) == [task_id(TOPO, run)] * 2  # the retry met "already exists"
    assert [task.task_id for task in epoch.simulator.store.tasks()] == [task_id(TOPO, run)]


def test_drove_unreachable_while_a_task_runs(epoch: Epoch) -> None:
    """Scenario 71: UNKNOWN only after the retry budget (3 polls); then RUNNING and COMPLETED."""
    run = epoch.start_long_run()
    epoch.simulator.refuse()
    observed = []
    for _ in range(3):
        epoch.step()
        observed.append(epoch.run(TOPO, run)["tasks"]["test-task-1"]["state"])
    assert observed == ["RUNNING", "RUNNING", "UNKNOWN"]
    epoch.simulator.restore()
    epoch.settle(epoch.task_in_state(TOPO, run, "RUNNING"))
    epoch.finish_on_drove(task_id(TOPO, run))
    epoch.settle()
    assert epoch.run(TOPO, run)["state"] == "SUCCESSFUL"


def test_missing_placement_policy_is_sent_as_any(epoch: Epoch) -> None:
    """Scenario 72: accepted by current Drove (the simulator requires a placement policy)."""
    body = cron_topology()
    del body["task"]["placementPolicy"]
    epoch.create(body)
    epoch.advance_to(5)
    (create,) = epoch.creates()
    assert create["body"]["spec"]["placementPolicy"] == {"type": "ANY"}
    assert epoch.runs()[0]["state"] == "SUCCESSFUL"


def test_killed_task_is_cancelled_and_fails_the_run(epoch: Epoch) -> None:
    """Scenario 73 (and 21): kill over HTTP."""
    run = epoch.start_long_run()
    assert epoch.kill(TOPO, run) == {
        "status": "SUCCESS",
        "data": {"success": True, "message": "Task cancel accepted"},
        "message": "success",
    }
    epoch.settle()
    finished = epoch.run(TOPO, run)
    assert (finished["state"], finished["message"], task_states(finished)) == (
        "FAILED",
        "Task failed",
        ["CANCELLED"],
    )
