"""B. Scheduling (scenarios.md 32-44, 51, 53): topologies managed over HTTP, time on a manual clock.

Every test reads its outcome back through ``GET /apis/v1/topologies/<id>/runs`` and observes Drove
at the simulator; schedule time moves only when the test advances the scheduler's clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.core.clock import ManualClock
from tests.scenarios.conftest import (
    NEVER,
    SECOND,
    UTC,
    Epoch,
    at_topology,
    cron_topology,
    one_step,
    run_id,
    scripted,
    task_id,
)
from topologies import web_services

TOPO = "TEST_TOPO-1"
KOLKATA = ZoneInfo("Asia/Kolkata")
INSTANT_ID = re.compile(r"EIR-\d{4}(-\d{2}){5}-\d{3}")


def states(epoch: Epoch, topology_id: str = TOPO) -> list[tuple[str, str]]:
    return [(run["runId"], run["state"]) for run in epoch.runs(topology_id)]


def successful(epoch: Epoch, *seconds: float) -> list[tuple[str, str]]:
    return [(epoch.fire_id(s), "SUCCESSFUL") for s in seconds]


def test_one_run_per_five_second_boundary_and_none_between(epoch: Epoch) -> None:
    """Scenario 32: ids ESR-<boundary> with millis 000, each SUCCESSFUL."""
    epoch.create(cron_topology())
    for boundary in (5, 10, 15, 20):
        epoch.advance_to(boundary - 0.001)
        assert len(epoch.runs()) == boundary // 5 - 1
        epoch.advance_to(boundary)
    runs = epoch.runs()
    assert [run["runId"] for run in runs] == [epoch.fire_id(s) for s in (5, 10, 15, 20)]
    assert all(run["runId"].endswith("-000") for run in runs)
    assert {(run["state"], run["message"], run["runType"]) for run in runs} == {
        ("SUCCESSFUL", "Task successful", "SCHEDULED")
    }


def test_paused_topology_does_not_fire_and_unpause_does_not_catch_up(epoch: Epoch) -> None:
    """Scenario 33."""
    epoch.create(cron_topology())
    epoch.advance_to(5)
    assert epoch.pause(TOPO)["state"] == "PAUSED"
    epoch.advance_to(10)
    epoch.advance_to(15)
    assert states(epoch) == successful(epoch, 5)
    assert epoch.unpause(TOPO)["state"] == "ACTIVE"
    epoch.advance_to(20)
    epoch.advance_to(25)
    assert states(epoch) == successful(epoch, 5, 20, 25)


def test_deleted_topology_fires_no_more(epoch: Epoch) -> None:
    """Scenario 34."""
    epoch.create(cron_topology())
    epoch.advance_to(5)
    assert epoch.delete(TOPO) is True
    for boundary in (10, 15, 20, 25, 30):
        epoch.advance_to(boundary)
    assert epoch.runs() == []
    assert [create["body"]["spec"]["taskId"] for create in epoch.creates()] == [
        task_id(TOPO, epoch.fire_id(5))
    ]
    missing = epoch.call("GET", f"/apis/v1/topologies/{TOPO}").json()
    assert missing == {"status": "FAILED", "message": f"No such topology: {TOPO}"}


def test_update_to_a_new_cron_replaces_the_old_schedule(epoch: Epoch) -> None:
    """Scenario 35: every 5 s, then every 2 s."""
    epoch.create(cron_topology())
    epoch.advance_to(5)
    epoch.update(cron_topology(cron="0/2 * * * * ?"))
    for second in range(6, 16):
        epoch.advance_to(second)
    assert states(epoch) == successful(epoch, 5, 6, 8, 10, 12, 14)


def test_update_while_a_run_is_running_lets_it_finish(epoch: Epoch) -> None:
    """Scenario 36: every 2 s; update to every 10 s while the first run's task runs.

    The task runs 2 s of real time (DROVE_SIM_DURATION) while schedule time goes from 2 s to 8 s.
    """
    body = cron_topology(cron="0/2 * * * * ?", env=scripted(duration="2s"))
    epoch.create(body)
    first = epoch.fire_id(2)
    epoch.advance_to(2, epoch.task_in_state(TOPO, first, "RUNNING"))
    updated = epoch.update(body | {"trigger": {"type": "CRON", "timeSpec": "0/10 * * * * ?"}})
    for second in (4, 6, 8):
        epoch.advance_to(second, one_step)
    epoch.settle(epoch.run_in_state(TOPO, first, "SUCCESSFUL"))
    # The update reached Epoch before the task stopped on Drove.
    assert epoch.sim_task(task_id(TOPO, first)).updated_ms > updated["updated"]
    for second in range(9, 21):
        epoch.advance_to(second)
    assert states(epoch) == successful(epoch, 2, 10, 20)


def test_update_while_paused_takes_effect_on_unpause(epoch: Epoch) -> None:
    """Scenario 37: every 2 s; pause; update to every 10 s; advance; unpause."""
    epoch.create(cron_topology(cron="0/2 * * * * ?"))
    epoch.advance_to(2)
    epoch.pause(TOPO)
    epoch.update(cron_topology(cron="0/10 * * * * ?"))
    for second in (4, 6, 8, 10, 12):
        epoch.advance_to(second)
    assert states(epoch) == successful(epoch, 2)
    epoch.unpause(TOPO)
    for second in range(13, 31):
        epoch.advance_to(second)
    assert states(epoch) == successful(epoch, 2, 20, 30)


def test_two_topologies_fire_independently(epoch: Epoch) -> None:
    """Scenario 38: two topologies on `0/5 * * ? * * *`."""
    names = ("TEST_TOPO-1", "TEST_TOPO-2")
    for name in names:
        epoch.create(cron_topology(name, "0/5 * * ? * * *"))
    for boundary in (5, 10, 15):
        epoch.advance_to(boundary)
    for name in names:
        assert states(epoch, name) == successful(epoch, 5, 10, 15)
    started = sorted(create["body"]["spec"]["taskId"] for create in epoch.creates())
    expected = [task_id(name, epoch.fire_id(s)) for name in names for s in (5, 10, 15)]
    assert started == sorted(expected)


def test_long_run_skips_the_boundaries_it_spans(epoch: Epoch) -> None:
    """Scenario 39: every 5 s with a task that runs from 5 s to 17 s."""
    first = epoch.start_long_run()
    epoch.advance_to(10, lambda: len(epoch.runs()) == 2)
    epoch.advance_to(15, lambda: len(epoch.runs()) == 3)
    epoch.advance_to(17, one_step)
    epoch.finish_on_drove(task_id(TOPO, first))
    epoch.settle(epoch.run_in_state(TOPO, first, "SUCCESSFUL"))
    epoch.advance_to(20, epoch.task_in_state(TOPO, epoch.fire_id(20), "RUNNING"))
    runs = epoch.runs()
    assert [(run["runId"], run["state"]) for run in runs] == [
        (epoch.fire_id(5), "SUCCESSFUL"),
        (epoch.fire_id(10), "SKIPPED"),
        (epoch.fire_id(15), "SKIPPED"),
        (epoch.fire_id(20), "RUNNING"),
    ]
    assert all(run["message"].startswith("Task skipped") for run in runs[1:3])
    assert len(epoch.creates()) == 2  # no overlap: the skipped fires never reached Drove


def test_instant_runs_of_active_and_paused_topologies(epoch: Epoch) -> None:
    """Scenario 40: one INSTANT run each, EIR-..., COMPLETED, never repeated."""
    epoch.create(cron_topology("TEST_TOPO-1", NEVER))
    epoch.create(cron_topology("TEST_TOPO-2", NEVER))
    epoch.pause("TEST_TOPO-2")
    requested = {name: epoch.run_now(name) for name in ("TEST_TOPO-1", "TEST_TOPO-2")}
    epoch.settle()
    epoch.advance_to(60)
    for name, run in requested.items():
        assert INSTANT_ID.fullmatch(run)
        (only,) = epoch.runs(name)
        assert (only["runId"], only["runType"], only["state"], only["message"]) == (
            run,
            "INSTANT",
            "COMPLETED",
            "Task completed",
        )
    assert len(epoch.creates()) == 2


def test_at_trigger_fires_once_at_its_time(epoch: Epoch) -> None:
    """Scenario 41: AT now + 1 h."""
    epoch.create(at_topology(TOPO, epoch.at(3600)))
    epoch.advance_to(3599.999)
    assert epoch.runs() == []
    epoch.advance_to(3600)
    epoch.advance_to(7200)
    assert [(r["runId"], r["state"]) for r in epoch.runs()] == [(epoch.fire_id(3600), "COMPLETED")]
    assert len(epoch.creates()) == 1


@pytest.mark.parametrize("offset_s", [0, -3600], ids=["now", "past"])
def test_at_trigger_at_now_or_in_the_past_fires_at_once(epoch: Epoch, offset_s: int) -> None:
    """Scenario 42."""
    epoch.create(at_topology(TOPO, epoch.at(offset_s)))
    epoch.settle()
    epoch.advance_to(3600)
    assert [(r["runId"], r["state"], r["message"]) for r in epoch.runs()] == [
        (epoch.fire_id(0), "COMPLETED", "Task completed")
    ]


def test_failed_at_run_is_not_fired_again(epoch: Epoch) -> None:
    """Scenario 43."""
    epoch.create(at_topology(TOPO, epoch.at(0), env=scripted("fail")))
    epoch.settle()
    epoch.advance_to(3600)
    assert [(r["runId"], r["state"], r["message"]) for r in epoch.runs()] == [
        (epoch.fire_id(0), "FAILED", "Task failed")
    ]
    assert len(epoch.creates()) == 1


def test_spent_at_trigger_stays_spent_across_a_restart_until_moved(epoch: Epoch) -> None:
    """Scenario 44: the scheduler restarts after the AT run; then the trigger moves later."""
    body = at_topology(TOPO, epoch.at(10))
    epoch.create(body)
    epoch.advance_to(10)
    epoch.engine.stand_down()  # a restart: the next step takes over from the store alone
    epoch.advance_to(20)
    assert [r["runId"] for r in epoch.runs()] == [epoch.fire_id(10)]
    epoch.update(body | {"trigger": {"type": "AT", "time": epoch.at(3600)}})
    epoch.advance_to(3599)
    epoch.advance_to(3600)
    epoch.advance_to(7200)
    assert states(epoch) == [
        (epoch.fire_id(10), "COMPLETED"),
        (epoch.fire_id(3600), "COMPLETED"),
    ]


def next_utc(after_ms: int, hour: int, minute: int = 0) -> int:
    """The first instant strictly after ``after_ms`` at ``hour:minute`` UTC."""
    moment = datetime.fromtimestamp(after_ms / SECOND, tz=UTC)
    candidate = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= moment:
        candidate += timedelta(days=1)
    return int(candidate.timestamp()) * SECOND


def test_cron_fires_in_the_configured_time_zone(start_epoch: Callable[..., Epoch]) -> None:
    """Scenario 51: options.timeZone Asia/Kolkata, cron `0 30 2 ? * *` fires at 21:00 UTC.

    Instant run ids are in that zone as well (epoch-model.md §13).
    """
    epoch = start_epoch(time_zone="Asia/Kolkata")
    epoch.create(cron_topology(cron="0 30 2 ? * *"))
    fire = next_utc(epoch.start, 21)
    epoch.advance_to((fire - epoch.start - 1) / SECOND)
    assert epoch.runs() == []
    epoch.advance_to((fire - epoch.start) / SECOND)
    (run,) = epoch.runs()
    kolkata = datetime.fromtimestamp(fire / SECOND, tz=KOLKATA)
    assert (run["runId"], run["state"]) == (f"ESR-{kolkata:%Y-%m-%d}-02-30-00-000", "SUCCESSFUL")
    instant = epoch.run(TOPO, epoch.run_now(TOPO))
    assert instant["runId"] == run_id("EIR", instant["created"], KOLKATA)


def test_instant_runs_in_the_same_millisecond_get_distinct_ids(
    epoch: Epoch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scenario 53: two instant runs requested at once, at one frozen millisecond."""
    frozen_ms = epoch.start - 30_123
    frozen = ManualClock(frozen_ms)
    monkeypatch.setattr(web_services, "SystemClock", lambda: frozen)  # the API's clock
    epoch.create(cron_topology(cron=NEVER))

    def run_now(_: int) -> str:
        answer = epoch.call("PUT", f"/apis/v1/topologies/{TOPO}/run", "").json()
        return str(answer["data"]["runId"])

    with ThreadPoolExecutor(2) as pool:
        requested = sorted(pool.map(run_now, range(2)))
    assert requested == [run_id("EIR", frozen_ms), run_id("EIR", frozen_ms + 1)]
    epoch.settle()
    assert states(epoch) == [(run, "COMPLETED") for run in requested]
    started = sorted(create["body"]["spec"]["taskId"] for create in epoch.creates())
    assert started == [task_id(TOPO, run) for run in requested]
