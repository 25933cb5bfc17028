"""The scheduler engine against the Drove simulator over real HTTP, with an injected clock.

Schedule time only moves when a test advances the clock; tests wait (briefly, in real time) only
for the simulated Drove tasks to progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator
from epoch_site.config import NotifyConfig
from scheduler.core.clock import ManualClock
from scheduler.drove_gateway import DroveGateway
from scheduler.engine import Engine
from scheduler.events import EpochEvent, EventBus
from scheduler.notifications import MailNotifier
from tests.drove_client.conftest import drove_config, fast_settings
from tests.scheduler.stepping import SECOND, START, STEPPED_OPTIONS, settle
from tests.support.smtp import smtp_server
from tests.topologies.api.conftest import topology_body
from topologies.codec import topology_from_json
from topologies.domain import RunInfo, RunState, TaskState, TopologyDetails, TopologyState
from topologies.storage.embedded import SqlStore

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Harness:
    engine: Engine
    clock: ManualClock
    store: SqlStore
    simulator: DroveSimulator
    events: list[EpochEvent]

    def add(
        self, name: str = "TEST_TOPO-1", cron: str = "0/5 * * * * ?", **task_changes: Any
    ) -> TopologyDetails:
        body = topology_body(name, trigger={"type": "CRON", "timeSpec": cron})
        body["task"].update(task_changes)
        topology = topology_from_json(body)
        now = self.clock.now_ms()
        return self.store.create_topology(
            TopologyDetails(name, topology, TopologyState.ACTIVE, now, now)
        )

    def settle(self, done: Callable[[], bool] | None = None) -> None:
        settle(self.engine, done)

    def advance_to(self, instant_ms: int, done: Callable[[], bool] | None = None) -> None:
        self.clock.set(instant_ms)
        self.settle(done)

    def task_running(self) -> bool:
        runs = self.runs()
        return bool(runs) and runs[0].tasks["test-task-1"].state is TaskState.RUNNING

    def runs(self, topology_id: str = "TEST_TOPO-1") -> list[RunInfo]:
        return sorted(self.store.list_runs(topology_id), key=lambda r: r.run_id)

    def creates(self) -> list[dict[str, Any]]:
        operations = self.simulator.requests("POST", "/apis/v1/tasks/operations")
        return [r for r in operations if r["body"]["type"] == "CREATE"]


@pytest.fixture
def harness() -> Iterator[Harness]:
    with DroveSimulator(fast_settings()) as simulator:
        client = DroveClient(drove_config([simulator.url]))
        clock = ManualClock(START)
        bus = EventBus()
        events: list[EpochEvent] = []
        bus.subscribe(events.append)
        store = SqlStore()
        engine = Engine(store, DroveGateway(client), clock, bus, STEPPED_OPTIONS)
        yield Harness(engine, clock, store, simulator, events)
        engine.close()
        bus.close()
        client.close()


def test_one_run_per_cron_boundary(harness: Harness) -> None:
    harness.add()
    harness.settle()
    for boundary in range(1, 5):
        harness.advance_to(START + boundary * 5 * SECOND)
    runs = harness.runs()
    assert [r.run_id for r in runs] == [
        f"ESR-2026-03-01-00-00-{s:02d}-000" for s in (5, 10, 15, 20)
    ]
    assert {(r.state, r.message) for r in runs} == {(RunState.SUCCESSFUL, "Task successful")}
    task = runs[0].tasks["test-task-1"]
    assert task.state is TaskState.COMPLETED
    assert task.upstream_id == task.task_id == f"TEST_TOPO-1-{runs[0].run_id}-test-task-1"
    assert task.error_message == ""


def test_no_run_between_boundaries(harness: Harness) -> None:
    harness.add()
    harness.advance_to(START + 4_999)
    assert harness.runs() == []


def test_pause_stops_fires_and_unpause_resumes_without_catch_up(harness: Harness) -> None:
    harness.add()
    harness.advance_to(START + 5 * SECOND)
    harness.store.update_topology(
        "TEST_TOPO-1", lambda d: d.with_state(TopologyState.PAUSED, harness.clock.now_ms())
    )
    harness.advance_to(START + 10 * SECOND)
    harness.advance_to(START + 15 * SECOND)
    harness.store.update_topology(
        "TEST_TOPO-1", lambda d: d.with_state(TopologyState.ACTIVE, harness.clock.now_ms())
    )
    harness.advance_to(START + 16 * SECOND)
    harness.advance_to(START + 20 * SECOND)
    assert [r.run_id[-9:] for r in harness.runs()] == ["00-05-000", "00-20-000"]


def test_deleted_topology_fires_no_more(harness: Harness) -> None:
    harness.add()
    harness.advance_to(START + 5 * SECOND)
    harness.store.delete_topology("TEST_TOPO-1")
    harness.advance_to(START + 30 * SECOND)
    assert harness.runs() == []
    assert len(harness.creates()) == 1


def test_fire_while_the_previous_run_runs_is_recorded_skipped(harness: Harness) -> None:
    harness.add(env={"DROVE_SIM_DURATION": "1h"})
    harness.advance_to(START + 5 * SECOND, harness.task_running)
    harness.advance_to(START + 10 * SECOND, lambda: len(harness.runs()) == 2)
    first, second = harness.runs()
    assert first.state is RunState.RUNNING
    assert (second.state, second.message) == (
        RunState.SKIPPED,
        "Task skipped: previous run still running",
    )
    assert second.tasks["test-task-1"].state is TaskState.PENDING
    assert len(harness.creates()) == 1


def test_failed_container_fails_the_run(harness: Harness) -> None:
    harness.add(env={"DROVE_SIM_OUTCOME": "fail", "DROVE_SIM_EXIT_CODE": "3"})
    harness.advance_to(START + 5 * SECOND)
    (run,) = harness.runs()
    assert (run.state, run.message) == (RunState.FAILED, "Task failed")
    task = run.tasks["test-task-1"]
    assert (task.state, task.error_message) == (
        TaskState.FAILED,
        "Task instance exited with status: 3",
    )


def test_image_pull_failure_is_not_a_success(harness: Harness) -> None:
    harness.add(env={"DROVE_SIM_OUTCOME": "pull-failure"})
    harness.advance_to(START + 5 * SECOND)
    (run,) = harness.runs()
    assert run.state is RunState.FAILED
    assert run.tasks["test-task-1"].error_message.startswith("Error while pulling image")


def test_composite_all_stops_at_the_first_failure(harness: Harness) -> None:
    base = topology_body()["task"]
    children = [
        {**base, "taskName": "test-task-1"},
        {**base, "taskName": "test-task-2", "env": {"DROVE_SIM_OUTCOME": "fail"}},
        {**base, "taskName": "test-task-3"},
    ]
    body = topology_body(
        trigger={"type": "CRON", "timeSpec": "0/5 * * * * ?"},
        task={"type": "COMPOSITE", "tasks": children},
    )
    now = harness.clock.now_ms()
    harness.store.create_topology(
        TopologyDetails("TEST_TOPO-1", topology_from_json(body), TopologyState.ACTIVE, now, now)
    )
    harness.advance_to(START + 5 * SECOND)
    (run,) = harness.runs()
    states = [record.state for record in run.tasks.values()]
    assert run.state is RunState.FAILED
    assert states == [TaskState.COMPLETED, TaskState.FAILED, TaskState.PENDING]
    assert len(harness.creates()) == 2


def test_at_trigger_fires_once_at_its_time(harness: Harness) -> None:
    body = topology_body(trigger={"type": "AT", "time": START + 3_600 * SECOND})
    harness.store.create_topology(
        TopologyDetails("TEST_TOPO-1", topology_from_json(body), TopologyState.ACTIVE, START, START)
    )
    harness.advance_to(START + 3_599 * SECOND)
    assert harness.runs() == []
    harness.advance_to(START + 3_600 * SECOND)
    harness.advance_to(START + 7_200 * SECOND)
    (run,) = harness.runs()
    assert (run.state, run.message) == (RunState.COMPLETED, "Task completed")


def test_failed_at_run_is_not_fired_again(harness: Harness) -> None:
    body = topology_body(trigger={"type": "AT", "time": START - 1})
    body["task"]["env"] = {"DROVE_SIM_OUTCOME": "fail"}
    harness.store.create_topology(
        TopologyDetails("TEST_TOPO-1", topology_from_json(body), TopologyState.ACTIVE, START, START)
    )
    harness.settle()
    harness.advance_to(START + 3_600 * SECOND)
    (run,) = harness.runs()
    assert run.state is RunState.FAILED


def test_events_come_in_order(harness: Harness) -> None:
    harness.add()
    harness.advance_to(START + 5 * SECOND)
    harness.engine.bus.drain()
    seen = [(e.type.value, e.metadata["NEW_STATE"]) for e in harness.events]
    assert seen == [
        ("TOPOLOGY_RUN_STATE_CHANGED", "RUNNING"),
        ("TOPOLOGY_RUN_TASK_STATE_CHANGED", "STARTING"),
        ("TOPOLOGY_RUN_TASK_STATE_CHANGED", "COMPLETED"),
        ("TOPOLOGY_RUN_STATE_CHANGED", "SUCCESSFUL"),
    ]


def test_instant_run_of_a_paused_topology_completes(harness: Harness) -> None:
    from scheduler.core.runs import new_run
    from topologies.domain import RunType

    details = harness.add()
    harness.store.update_topology(details.id, lambda d: d.with_state(TopologyState.PAUSED, START))
    paused = harness.store.get_topology(details.id)
    assert paused is not None
    harness.store.create_run(new_run(paused, "EIR-2026-03-01-00-00-00-001", RunType.INSTANT, START))
    harness.settle(lambda: harness.runs()[0].state is not RunState.RUNNING)
    (run,) = harness.runs()
    assert (run.state, run.message) == (RunState.COMPLETED, "Task completed")


def test_a_new_leader_continues_a_run_without_starting_it_twice(harness: Harness) -> None:
    harness.add(env={"DROVE_SIM_DURATION": "1s"})
    harness.advance_to(START + 5 * SECOND, harness.task_running)
    (running,) = harness.runs()
    assert running.state is RunState.RUNNING
    harness.store.update_topology(
        "TEST_TOPO-1", lambda d: d.with_state(TopologyState.PAUSED, START + 5 * SECOND)
    )
    harness.engine.stand_down()
    harness.settle(lambda: harness.runs()[0].state is not RunState.RUNNING)
    (finished,) = harness.runs()
    assert (finished.state, finished.created) == (RunState.SUCCESSFUL, running.created)
    assert len(harness.simulator.store.tasks()) == 1  # re-sent CREATE was a duplicate: attached


def test_missed_fire_runs_once_after_a_leader_change(harness: Harness) -> None:
    harness.add()
    harness.advance_to(START + 5 * SECOND)
    harness.engine.stand_down()
    harness.clock.set(START + 40 * SECOND)  # no leader from 5 s to 40 s
    harness.settle()
    runs = harness.runs()
    caught_up = [r for r in runs if r.state is not RunState.SKIPPED]
    skipped = [r for r in runs if r.state is RunState.SKIPPED]
    assert [r.run_id[-9:] for r in caught_up] == ["00-05-000", "00-40-000"]
    assert [r.run_id[-9:] for r in skipped] == [f"00-{s}-000" for s in (10, 15, 20, 25, 30, 35)]
    assert all("missed" in r.message for r in skipped)


def test_a_take_over_writes_every_topologys_catch_up_in_one_round(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"TOPO-{i}" for i in range(3)]
    for name in names:
        harness.add(name)
    harness.advance_to(START + 5 * SECOND)
    harness.engine.stand_down()
    harness.clock.set(START + 40 * SECOND)  # no leader from 5 s to 40 s
    rounds: list[list[str]] = []
    create_runs = harness.store.create_runs

    def counted(runs: list[RunInfo]) -> list[bool]:
        rounds.append(sorted({run.topology_id for run in runs}))
        return create_runs(runs)

    monkeypatch.setattr(harness.store, "create_runs", counted)
    harness.settle()
    assert rounds[0] == names  # not one round (or more) per topology
    for name in names:
        owed = [r for r in harness.runs(name) if r.created == START + 40 * SECOND]
        assert len(owed) == 7  # the fire at 40 s runs; 10 s to 35 s are recorded as missed
        assert sum(r.state is not RunState.SKIPPED for r in owed) == 1


@pytest.mark.parametrize(
    ("env", "subject_end", "body_start"),
    [
        (
            {},
            "completed successfully",
            "Tasks completed: [TEST_TOPO-1-ESR-2026-03-01-00-00-05-000-test-task-1] in ",
        ),
        (
            {"DROVE_SIM_OUTCOME": "fail", "DROVE_SIM_EXIT_CODE": "3"},
            "failed",
            "Task TEST_TOPO-1-ESR-2026-03-01-00-00-05-000-test-task-1 with upstream ID "
            "TEST_TOPO-1-ESR-2026-03-01-00-00-05-000-test-task-1 failed with error: "
            "Task instance exited with status: 3",
        ),
    ],
)
def test_finished_runs_are_mailed(
    harness: Harness, env: dict[str, str], subject_end: str, body_start: str
) -> None:
    with smtp_server() as (inbox, port):
        config = NotifyConfig(
            type="MAIL", smtp_server="127.0.0.1", port=port, from_address="epoch@example.com"
        )
        notifier = MailNotifier(config, harness.store.get_run, harness.store.get_topology)
        harness.engine.bus.subscribe(notifier)
        harness.add(env=env)
        harness.advance_to(START + 5 * SECOND)
        (message,) = inbox.wait_for(1)
        notifier.close()
    assert (
        message["Subject"] == f"Topology run TEST_TOPO-1/ESR-2026-03-01-00-00-05-000 {subject_end}"
    )
    assert message["To"] == "test@email.com"
    assert message.get_content().startswith(body_start)


def test_killed_task_fails_the_run(harness: Harness) -> None:
    harness.add(env={"DROVE_SIM_DURATION": "1h"})
    harness.advance_to(START + 5 * SECOND, harness.task_running)
    (run,) = harness.runs()
    accepted, message = harness.engine.gateway.kill(run.tasks["test-task-1"].task_id)
    assert (accepted, message) == (True, "Task cancel accepted")
    harness.settle()
    (run,) = harness.runs()
    assert (run.state, run.message) == (RunState.FAILED, "Task failed")
    assert run.tasks["test-task-1"].state is TaskState.CANCELLED


def test_a_create_lost_in_a_drove_outage_is_sent_again(harness: Harness) -> None:
    harness.add()
    harness.simulator.refuse(0)  # longer than the client's whole retry budget
    harness.clock.set(START + 5 * SECOND)
    harness.engine.step()
    harness.engine.wait_idle()
    (run,) = harness.runs()
    assert (run.tasks["test-task-1"].state, run.tasks["test-task-1"].error_message) == (
        TaskState.UNKNOWN,
        "No response from drove",
    )
    harness.simulator.restore()
    harness.settle()
    (run,) = harness.runs()
    assert run.state is RunState.SUCCESSFUL
    assert len(harness.simulator.store.tasks()) == 1


def test_a_leader_takes_over_only_once_its_mirror_is_in_step(harness: Harness) -> None:
    harness.add()
    mirror_ready = False
    harness.engine.ready = lambda: mirror_ready
    harness.clock.set(START + 5 * SECOND)
    assert harness.engine.step() is False
    assert harness.runs() == [] and harness.creates() == []
    mirror_ready = True
    harness.settle()
    assert [r.run_id[-9:] for r in harness.runs()] == ["00-05-000"]  # caught up at once


class FailingStarts:
    """A gateway whose starts fail inside Epoch (scenario 63's injected fault)."""

    def __init__(self, gateway: DroveGateway) -> None:
        self.gateway = gateway

    def start(self, task_id: str, task: object) -> None:
        raise RuntimeError("boom")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)


def test_an_internal_error_fails_the_run_with_its_message(harness: Harness) -> None:
    """Scenario 63."""
    harness.add()
    harness.engine.follower.gateway = FailingStarts(harness.engine.follower.gateway)  # type: ignore[assignment]
    harness.advance_to(START + 5 * SECOND)
    (run,) = harness.runs()
    assert (run.state, run.message) == (RunState.FAILED, "Task Failed with error: boom")
    assert harness.creates() == []
