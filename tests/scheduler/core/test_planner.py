from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from scheduler.core.planner import Fire, Planner
from scheduler.core.policy import RunPolicy
from tests.topologies.storage import samples
from topologies.domain import (
    AtTrigger,
    CronTrigger,
    RunType,
    TopologyDetails,
    TopologyState,
    Trigger,
)

UTC = ZoneInfo("UTC")
SECOND = 1000


def every(spec_seconds: int):  # type: ignore[no-untyped-def]
    def next_fire(trigger: Trigger, after_ms: int, zone: ZoneInfo) -> int | None:
        step = spec_seconds * SECOND
        return (after_ms // step + 1) * step

    return next_fire


def cron(name: str = "t") -> TopologyDetails:
    details = samples.topology(name)
    return replace(
        details, topology=replace(details.topology, trigger=CronTrigger("0/5 * * * * ?"))
    )


def at(time_ms: int, name: str = "t") -> TopologyDetails:
    details = samples.topology(name)
    return replace(details, topology=replace(details.topology, trigger=AtTrigger(time_ms)))


def test_cron_fires_on_each_boundary_strictly_after_the_reference() -> None:
    planner = Planner(UTC, every(5))
    assert planner.track(cron(), reference_ms=10 * SECOND) == 15 * SECOND
    fired = [planner.due(t * SECOND) for t in (14, 15, 19, 20)]
    assert fired == [
        [],
        [Fire("t", 15 * SECOND, RunType.SCHEDULED)],
        [],
        [Fire("t", 20 * SECOND, RunType.SCHEDULED)],
    ]


def test_late_tick_returns_every_due_boundary_once() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron(), reference_ms=0)
    assert [f.fire_ms for f in planner.due(17 * SECOND)] == [5 * SECOND]
    assert [f.fire_ms for f in planner.due(17 * SECOND)] == [10 * SECOND]
    assert [f.fire_ms for f in planner.due(17 * SECOND)] == [15 * SECOND]
    assert planner.due(17 * SECOND) == []


def test_paused_topology_has_no_pending_fire() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron(), reference_ms=0)
    planner.track(cron().with_state(TopologyState.PAUSED, 1), reference_ms=1)
    assert planner.pending_fire("t") is None
    assert planner.due(60 * SECOND) == []


def test_retracking_replaces_the_previous_schedule() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron(), reference_ms=0)
    planner.next_fire = every(2)
    planner.track(cron(), reference_ms=3 * SECOND)
    assert [f.fire_ms for f in planner.due(4 * SECOND)] == [4 * SECOND]
    assert planner.pending_fire("t") == 6 * SECOND


def test_future_at_trigger_fires_once_at_its_time() -> None:
    planner = Planner(UTC, every(5))
    assert planner.track(at(3_600 * SECOND), reference_ms=0) == 3_600 * SECOND
    assert planner.due(3_599 * SECOND) == []
    assert planner.due(3_600 * SECOND) == [Fire("t", 3_600 * SECOND, RunType.SCHEDULED)]
    assert planner.due(10**9) == []
    assert planner.pending_fire("t") is None


def test_past_at_trigger_fires_at_once() -> None:
    planner = Planner(UTC, every(5))
    assert planner.track(at(5 * SECOND), reference_ms=100 * SECOND) == 100 * SECOND


def test_spent_at_trigger_is_not_scheduled() -> None:
    planner = Planner(UTC, every(5))
    assert planner.track(at(5 * SECOND), reference_ms=100 * SECOND, spent=True) is None


def test_instant_runs_wait_in_the_same_heap() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron(), reference_ms=0)
    planner.request_instant("t", 2 * SECOND)
    assert planner.next_due_ms() == 2 * SECOND
    assert planner.due(2 * SECOND) == [Fire("t", 2 * SECOND, RunType.INSTANT)]


def test_two_topologies_fire_independently() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron("a"), reference_ms=0)
    planner.track(cron("b"), reference_ms=0)
    assert sorted(f.topology_id for f in planner.due(5 * SECOND)) == ["a", "b"]


def test_a_per_topology_time_zone_comes_from_its_policy() -> None:
    seen: list[ZoneInfo] = []

    def next_fire(trigger: Trigger, after_ms: int, zone: ZoneInfo) -> int | None:
        seen.append(zone)
        return after_ms + 1

    planner = Planner(UTC, next_fire, policy_of=lambda d: RunPolicy(time_zone="Asia/Kolkata"))
    planner.track(cron(), reference_ms=0)
    assert seen == [ZoneInfo("Asia/Kolkata")]


def test_clear_forgets_everything() -> None:
    planner = Planner(UTC, every(5))
    planner.track(cron(), reference_ms=0)
    planner.request_instant("t", 1)
    planner.clear()
    assert planner.next_due_ms() is None


class TestQuartzCalendar:
    """The planner with the real cron evaluator: DST changes, month ends and leap day."""

    ZONE = ZoneInfo("America/New_York")

    def planner(self, zone: ZoneInfo) -> Planner:
        from scheduler.core.triggers import next_fire

        return Planner(zone, next_fire)

    def topology(self, cron_spec: str) -> TopologyDetails:
        details = samples.topology()
        return replace(details, topology=replace(details.topology, trigger=CronTrigger(cron_spec)))

    def fires(self, cron_spec: str, zone: ZoneInfo, start: str, end: str) -> list[str]:
        from datetime import datetime

        planner = self.planner(zone)
        begin = int(datetime.fromisoformat(start).replace(tzinfo=zone).timestamp() * 1000)
        until = int(datetime.fromisoformat(end).replace(tzinfo=zone).timestamp() * 1000)
        planner.track(self.topology(cron_spec), reference_ms=begin)
        seen = []
        while (due := planner.next_due_ms()) is not None and due <= until:
            seen += [
                datetime.fromtimestamp(f.fire_ms / 1000, zone).strftime("%Y-%m-%d %H:%M %Z")
                for f in planner.due(due)
            ]
        return seen

    def test_spring_forward_skips_the_missing_hour(self) -> None:
        fires = self.fires("0 30 2 * * ?", self.ZONE, "2026-03-07T00:00", "2026-03-10T00:00")
        assert fires == ["2026-03-07 02:30 EST", "2026-03-09 02:30 EDT"]

    def test_fall_back_fires_once_at_the_second_occurrence(self) -> None:
        fires = self.fires("0 30 1 * * ?", self.ZONE, "2026-10-31T00:00", "2026-11-02T00:00")
        assert fires == ["2026-10-31 01:30 EDT", "2026-11-01 01:30 EST"]

    def test_last_day_of_month_and_leap_day(self) -> None:
        fires = self.fires("0 0 12 L * ?", UTC, "2028-01-01T00:00", "2028-04-01T00:00")
        assert fires == ["2028-01-31 12:00 UTC", "2028-02-29 12:00 UTC", "2028-03-31 12:00 UTC"]
