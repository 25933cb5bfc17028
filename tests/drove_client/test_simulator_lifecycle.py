"""The simulated task life cycle: progressions of drove-api.md §7.3, kills by state (§4.2),
records, runners, retention and failover."""

from __future__ import annotations

from typing import Any

import pytest

from drove_client.simulator import DroveSimulator
from drove_client.simulator.lifecycle import SimTask
from tests.drove_client.conftest import APP, wait_for, wait_for_some

RUN = ["PROVISIONING", "STARTING", "RUNNING", "RUN_COMPLETED", "DEPROVISIONING", "STOPPED"]


def spec(task_id: str = "t1", **env: str) -> dict[str, Any]:
    return {
        "sourceAppName": APP,
        "taskId": task_id,
        "executable": {"type": "DOCKER", "url": "ghcr.io/x/y:1", "dockerPullTimeout": "1 minute"},
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 128}],
        "placementPolicy": {"type": "ANY"},
        "env": env,
    }


def started(simulator: DroveSimulator, task_id: str = "t1", **env: str) -> SimTask:
    simulator.store.create(spec(task_id, **env))
    task = simulator.store.task(APP, task_id)
    assert task is not None
    return task


def finished(task: SimTask) -> SimTask:
    wait_for(lambda: task.state, lambda s: s in ("STOPPED", "LOST"))
    return task


@pytest.mark.parametrize(
    ("env", "history", "result", "message"),
    [
        ({}, RUN, {"status": "SUCCESSFUL", "exitCode": 0}, ""),
        (
            {"DROVE_SIM_OUTCOME": "fail", "DROVE_SIM_EXIT_CODE": "4"},
            RUN,
            {"status": "FAILED", "exitCode": 4},
            "Task instance exited with status: 4",
        ),
        (
            {"DROVE_SIM_OUTCOME": "vanish"},
            RUN,
            {"status": "LOST", "exitCode": -1},
            "Task instance lost for container: ",
        ),
        (
            {"DROVE_SIM_OUTCOME": "pull-failure"},
            ["PROVISIONING", "PROVISIONING_FAILED", "DEPROVISIONING", "STOPPED"],
            None,
            "Error while pulling image ghcr.io/x/y:1: ",
        ),
        (
            {"DROVE_SIM_OUTCOME": "start-failure"},
            ["PROVISIONING", "STARTING", "RUN_FAILED", "DEPROVISIONING", "STOPPED"],
            {"status": "FAILED", "exitCode": -1},
            "Error creating container",
        ),
        (
            {"DROVE_SIM_OUTCOME": "lost"},
            ["PROVISIONING", "STARTING", "RUNNING", "LOST"],
            {"status": "LOST", "exitCode": -1},
            "Instance lost",
        ),
    ],
)
def test_progressions_and_final_records(
    simulator: DroveSimulator,
    env: dict[str, str],
    history: list[str],
    result: dict[str, Any] | None,
    message: str,
) -> None:
    task = finished(started(simulator, **env))
    assert task.history == history
    record = simulator.store.record(APP, "t1")
    assert record is not None
    assert record.get("taskResult") == result
    assert record["errorMessage"].startswith(message) and bool(record["errorMessage"]) == bool(
        message
    )
    assert simulator.store.listed() == []


def test_drove_1_30_reports_start_failures_as_run_completed(simulator: DroveSimulator) -> None:
    simulator.settings.run_failed_state = False
    task = finished(started(simulator, DROVE_SIM_OUTCOME="start-failure"))
    assert task.history == [
        "PROVISIONING",
        "STARTING",
        "RUN_COMPLETED",
        "DEPROVISIONING",
        "STOPPED",
    ]
    assert task.result == {"status": "FAILED", "exitCode": -1}


def test_optional_pending_report_comes_first(simulator: DroveSimulator) -> None:
    simulator.settings.report_pending = True
    assert finished(started(simulator)).history == ["PENDING", *RUN]


def test_record_appears_only_with_the_first_report(simulator: DroveSimulator) -> None:
    simulator.settings.first_report_s = 0.2
    task = started(simulator)
    assert simulator.store.record(APP, "t1") is None
    assert simulator.store.has_runner(task)
    record = wait_for_some(lambda: simulator.store.record(APP, "t1"))
    assert record["state"] == "PROVISIONING"
    assert "hostname" not in record and "taskResult" not in record


def test_slow_start_and_long_run_come_from_the_env(simulator: DroveSimulator) -> None:
    task = started(simulator, DROVE_SIM_START_DELAY="300ms", DROVE_SIM_DURATION="2s")
    assert task.script.start_delay_s == pytest.approx(0.3)
    assert task.script.run_s == pytest.approx(2.0)


def test_hostname_appears_with_running_and_updated_moves_while_running(
    simulator: DroveSimulator,
) -> None:
    task = started(simulator, DROVE_SIM_DURATION="10s")
    wait_for(lambda: task.state, lambda s: s == "RUNNING")
    first = simulator.store.record(APP, "t1")
    assert first is not None and first["hostname"] == "sim-executor-0"
    later = wait_for_some(
        lambda: simulator.store.record(APP, "t1"), lambda r: r["updated"] > first["updated"]
    )
    assert later["created"] == first["created"]
    assert later["state"] == "RUNNING"


def test_error_message_is_sticky(simulator: DroveSimulator) -> None:
    task = simulator.store.seed(spec(), "RUNNING", error_message="first", hold=True)
    simulator.store.force(task, "RUN_COMPLETED", result={"status": "FAILED", "exitCode": 1})
    finished(task)
    assert task.error_message == "first"


# --- kill semantics by state (drove-api.md §4.2) ------------------------------------------------


def test_kill_while_running_cancels_the_task(simulator: DroveSimulator) -> None:
    task = started(simulator, DROVE_SIM_DURATION="10s")
    wait_for(lambda: task.state, lambda s: s == "RUNNING")
    assert simulator.store.kill(APP, "t1") is True
    finished(task)
    assert task.history[-3:] == ["RUN_COMPLETED", "DEPROVISIONING", "STOPPED"]
    assert task.result == {"status": "CANCELLED", "exitCode": -1}
    assert task.error_message == ""
    assert simulator.store.kill(APP, "t1") is False


@pytest.mark.parametrize("state", ["PENDING", "PROVISIONING", "STARTING"])
def test_kill_before_running_is_accepted_but_the_zombie_check_kills_it_later(
    simulator: DroveSimulator, state: str
) -> None:
    task = simulator.store.seed(spec(), state, hold=True)
    assert simulator.store.kill(APP, "t1") is True
    assert simulator.store.listed() == []  # the runner is gone
    assert simulator.store.kill(APP, "t1") is False  # "does not exist"
    simulator.store.force(task, state)  # the executor carries on
    finished(task)
    assert "RUNNING" in task.history
    assert task.result == {"status": "CANCELLED", "exitCode": -1}


@pytest.mark.parametrize("state", ["RUN_COMPLETED", "DEPROVISIONING"])
def test_kill_after_the_run_is_accepted_and_the_task_ends_normally(
    simulator: DroveSimulator, state: str
) -> None:
    task = simulator.store.seed(spec(), state, result={"status": "SUCCESSFUL", "exitCode": 0})
    assert simulator.store.kill(APP, "t1") is True
    finished(task)
    assert task.result == {"status": "SUCCESSFUL", "exitCode": 0}


@pytest.mark.parametrize("state", ["STOPPED", "LOST"])
def test_kill_of_a_finished_task_is_refused(simulator: DroveSimulator, state: str) -> None:
    simulator.store.seed(spec(), state)
    assert simulator.store.kill(APP, "t1") is False


def test_kill_of_an_unknown_task_is_refused(simulator: DroveSimulator) -> None:
    assert simulator.store.kill(APP, "nobody") is False


# --- records, runners, duplicates -----------------------------------------------------------


def test_never_scheduled_task_has_no_record_and_frees_its_id(simulator: DroveSimulator) -> None:
    task = started(simulator, DROVE_SIM_OUTCOME="never-scheduled")
    assert simulator.store.has_runner(task)
    wait_for(lambda: simulator.store.tasks() == [])
    assert simulator.store.record(APP, "t1") is None
    assert task.history == []
    simulator.store.create(spec())  # the start job gave up: the id is free again


def test_a_tag_no_executor_has_is_never_scheduled(simulator: DroveSimulator) -> None:
    value = spec()
    value["placementPolicy"] = {"type": "MATCH_TAG", "tag": "gpu"}
    simulator.store.create(value)
    task = simulator.store.task(APP, "t1")
    assert task is not None and task.script.outcome == "never-scheduled"
    simulator.settings.executor_tags = frozenset({"gpu"})
    value["taskId"] = "t2"
    simulator.store.create(value)
    second = simulator.store.task(APP, "t2")
    assert second is not None and second.script.outcome == "success"


def test_a_deleted_finished_record_frees_the_id(simulator: DroveSimulator) -> None:
    finished(started(simulator))
    assert simulator.store.delete(APP, "t1")
    assert simulator.store.record(APP, "t1") is None
    simulator.store.create(spec())
    assert simulator.store.task(APP, "t1") is not None


def test_a_deleted_active_record_reappears_with_the_next_report(simulator: DroveSimulator) -> None:
    task = started(simulator)
    wait_for(lambda: task.state, lambda s: s == "STARTING")
    assert simulator.store.delete(APP, "t1")
    wait_for(lambda: simulator.store.record(APP, "t1"))
    finished(task)


def test_listing_holds_only_active_tasks_with_a_runner(simulator: DroveSimulator) -> None:
    simulator.store.seed(spec("running"), "RUNNING", hold=True)
    simulator.store.seed(spec("failed-pull"), "PROVISIONING_FAILED", hold=True)
    simulator.store.seed(spec("orphan"), "RUNNING", runner=False, hold=True)
    simulator.store.seed(spec("done"), "STOPPED")
    assert [r["taskId"] for r in simulator.store.listed()] == ["running"]


# --- retention and failover ---------------------------------------------------------------------


def test_retention_sweeps_old_finished_records_only(simulator: DroveSimulator) -> None:
    simulator.store.seed(spec("old"), "STOPPED")
    simulator.store.seed(spec("busy"), "RUNNING", hold=True)
    simulator.settings.retention_age_s = 0.05
    wait_for(simulator.store.sweep, lambda removed: removed == 1)
    assert simulator.store.record(APP, "old") is None
    assert simulator.store.record(APP, "busy") is not None


def test_retention_runs_on_its_own_timer(sim_settings: Any) -> None:
    sim_settings.retention_age_s = 0.0
    sim_settings.retention_interval_s = 0.05
    with DroveSimulator(sim_settings) as simulator:
        simulator.store.seed(spec("old"), "STOPPED")
        wait_for(lambda: simulator.store.record(APP, "old") is None)


def test_failover_drops_runners_of_undeployed_apps(cluster: DroveSimulator) -> None:
    cluster.settings.deployed_apps = frozenset({"real-app"})
    cluster.store.seed(spec("t1"), "RUNNING", hold=True)
    real = dict(spec("t2"), sourceAppName="real-app")
    cluster.store.seed(real, "RUNNING", hold=True)
    cluster.set_leader(1)
    assert cluster.store.kill(APP, "t1") is False
    assert cluster.store.record(APP, "t1") is not None  # GET still works
    assert [r["taskId"] for r in cluster.store.listed()] == ["t2"]
    assert cluster.store.kill("real-app", "t2") is True
