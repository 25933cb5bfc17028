"""Topology services that reach Drove, against the simulator over real HTTP (scenarios 16, 21-26)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator
from drove_client.taskspec import build_task_spec
from scheduler.core.clock import ManualClock
from scheduler.core.runs import new_run
from scheduler.drove_gateway import DroveGateway
from scheduler.events import EventBus
from tests.drove_client.conftest import APP, drove_config, fast_settings
from tests.topologies.api.conftest import topology_body
from topologies import services
from topologies.codec import task_to_json, topology_from_json
from topologies.domain import (
    RunInfo,
    RunState,
    RunType,
    TaskRecord,
    TaskState,
    TopologyDetails,
    TopologyState,
)
from topologies.storage.embedded import SqlStore

pytestmark = pytest.mark.django_db(transaction=True)
START = 1_772_323_200_000


@pytest.fixture
def simulator() -> Iterator[DroveSimulator]:
    with DroveSimulator(fast_settings()) as simulator:
        yield simulator


@pytest.fixture
def context(simulator: DroveSimulator) -> Iterator[services.Services]:
    client = DroveClient(drove_config([simulator.url]))
    bus = EventBus()
    gateway = DroveGateway(client)
    yield services.Services(SqlStore(), bus, ManualClock(START), ZoneInfo("UTC"), lambda: gateway)
    bus.close()
    client.close()


def topology(context: services.Services) -> TopologyDetails:
    details = TopologyDetails(
        "TEST_TOPO-1", topology_from_json(topology_body()), TopologyState.ACTIVE, START, START
    )
    return context.store.create_topology(details)


def run_on_drove(
    context: services.Services,
    simulator: DroveSimulator,
    details: TopologyDetails,
    run_id: str,
    drove_state: str,
    **seed: Any,
) -> RunInfo:
    """A run whose only task exists on the simulator in ``drove_state``."""
    run = new_run(details, run_id, RunType.SCHEDULED, START)
    record = run.tasks["test-task-1"]
    terminal = drove_state == "STOPPED"
    task_state = TaskState.COMPLETED if terminal else TaskState.RUNNING
    run = run.with_task(
        "test-task-1", TaskRecord(record.task_id, task_state, record.task_id, ""), START
    )
    if terminal:
        run = run.finished(RunState.SUCCESSFUL, "Task successful", START)
    context.store.create_run(run)
    container = details.topology.task
    spec = build_task_spec(task_to_json(container), record.task_id, APP)  # type: ignore[arg-type]
    simulator.store.seed(spec, drove_state, **seed)
    return run


def operations(simulator: DroveSimulator, kind: str) -> list[dict[str, Any]]:
    return [
        r
        for r in simulator.requests("POST", "/apis/v1/tasks/operations")
        if r["body"]["type"] == kind
    ]


def test_delete_kills_running_tasks_and_cleans_finished_ones(
    context: services.Services, simulator: DroveSimulator
) -> None:
    details = topology(context)
    running = run_on_drove(context, simulator, details, "ESR-2", "RUNNING", hold=True)
    finished = run_on_drove(
        context,
        simulator,
        details,
        "ESR-1",
        "STOPPED",
        result={"status": "SUCCESSFUL", "exitCode": 0},
    )
    assert services.delete_topology(context, details.id) is True
    (kill,) = operations(simulator, "KILL")
    assert kill["body"]["taskId"] == running.tasks["test-task-1"].task_id
    deletes = [r["path"] for r in simulator.requests("DELETE")]
    assert deletes == [f"/apis/v1/tasks/{APP}/instances/{finished.tasks['test-task-1'].task_id}"]
    assert context.store.get_topology(details.id) is None
    assert context.store.list_runs(details.id) == []


def test_kill_of_a_running_task_is_accepted(
    context: services.Services, simulator: DroveSimulator
) -> None:
    details = topology(context)
    run_on_drove(context, simulator, details, "ESR-1", "RUNNING", hold=True)
    assert services.kill_task(context, details.id, "ESR-1", "test-task-1") == (
        True,
        "Task cancel accepted",
    )


def test_kill_of_a_finished_task_reports_drove_refusal(
    context: services.Services, simulator: DroveSimulator
) -> None:
    details = topology(context)
    run_on_drove(
        context,
        simulator,
        details,
        "ESR-1",
        "STOPPED",
        result={"status": "SUCCESSFUL", "exitCode": 0},
    )
    answer = services.kill_task(context, details.id, "ESR-1", "test-task-1")
    assert answer == (False, "Task cancellation failed with error: Command validation failure")


def test_kill_with_drove_unreachable(context: services.Services, simulator: DroveSimulator) -> None:
    details = topology(context)
    run_on_drove(context, simulator, details, "ESR-1", "RUNNING", hold=True)
    simulator.refuse(0)
    try:
        assert services.kill_task(context, details.id, "ESR-1", "test-task-1") == (
            False,
            "Could not send kill command to drove",
        )
    finally:
        simulator.restore()


def test_kill_of_unknown_run_or_task(context: services.Services) -> None:
    topology(context)
    assert services.kill_task(context, "TEST_TOPO-1", "nope", "test-task-1") is None
    assert services.task_log_link(context, "TEST_TOPO-1", "nope", "test-task-1") is None


def test_log_link_points_at_the_drove_task_page(
    context: services.Services, simulator: DroveSimulator
) -> None:
    details = topology(context)
    run = run_on_drove(context, simulator, details, "ESR-1", "RUNNING", hold=True)
    task_id = run.tasks["test-task-1"].task_id
    assert (
        services.task_log_link(context, details.id, "ESR-1", "test-task-1")
        == f"{simulator.url}/tasks/{APP}/{task_id}"
    )


def test_no_log_link_without_a_usable_upstream_id(context: services.Services) -> None:
    details = topology(context)
    run = new_run(details, "ESR-1", RunType.SCHEDULED, START)
    record = replace(run.tasks["test-task-1"], state=TaskState.FAILED, upstream_id="UNKNOWN")
    context.store.create_run(run.with_task("test-task-1", record, START))
    assert services.task_log_link(context, details.id, "ESR-1", "test-task-1") is None
