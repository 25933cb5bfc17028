from __future__ import annotations

from scheduler.core.catchup import MISSED_MESSAGE, LastScheduledRun, plan_catch_up

MINUTE = 60_000


def every_minute(after_ms: int) -> int:
    return (after_ms // MINUTE + 1) * MINUTE


def test_missed_boundary_within_grace_runs_once() -> None:
    # the last run fired at minute 10; the leader died 5 s before minute 11; a new one leads 30 s on
    plan = plan_catch_up(
        every_minute,
        since_ms=10 * MINUTE,
        now_ms=11 * MINUTE + 30_000,
        grace_ms=10 * MINUTE,
        last_run=LastScheduledRun(created=10 * MINUTE, updated=10 * MINUTE + 900, running=False),
        limit=5,
    )
    assert plan.run_now == 11 * MINUTE
    assert plan.skipped == ()


def test_older_misses_within_the_gap_are_recorded_as_skipped() -> None:
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=3 * MINUTE + 5, grace_ms=MINUTE, last_run=None, limit=5
    )
    assert plan.run_now == 3 * MINUTE
    assert plan.skipped == (MINUTE, 2 * MINUTE)


def test_gap_longer_than_grace_runs_nothing_and_records_the_misses() -> None:
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=30 * MINUTE + 1, grace_ms=0, last_run=None, limit=5
    )
    assert plan.run_now is None
    assert plan.skipped == tuple(m * MINUTE for m in range(26, 31))
    assert plan.unrecorded == 25
    assert "25 earlier missed fires not recorded" in plan.oldest_message


def test_no_fire_missed_means_nothing_to_do() -> None:
    plan = plan_catch_up(
        every_minute,
        since_ms=MINUTE,
        now_ms=MINUTE + 59_999,
        grace_ms=MINUTE,
        last_run=None,
        limit=5,
    )
    assert (plan.run_now, plan.skipped, plan.unrecorded) == (None, (), 0)
    assert plan.oldest_message == MISSED_MESSAGE


def test_previous_run_still_running_blocks_the_catch_up_run() -> None:
    running = LastScheduledRun(created=0, updated=0, running=True)
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=MINUTE + 10, grace_ms=MINUTE, last_run=running, limit=5
    )
    assert plan.run_now is None
    assert plan.skipped == (MINUTE,)


def test_previous_run_finished_after_the_fire_blocks_it_too() -> None:
    late = LastScheduledRun(created=0, updated=MINUTE + 5, running=False)
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=MINUTE + 10, grace_ms=MINUTE, last_run=late, limit=5
    )
    assert plan.run_now is None


def test_finished_previous_run_allows_the_catch_up_run() -> None:
    done = LastScheduledRun(created=0, updated=10, running=False)
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=MINUTE + 10, grace_ms=MINUTE, last_run=done, limit=5
    )
    assert plan.run_now == MINUTE
    assert plan.skipped == ()


def test_fire_exactly_at_now_counts_as_missed() -> None:
    plan = plan_catch_up(
        every_minute, since_ms=0, now_ms=MINUTE, grace_ms=MINUTE, last_run=None, limit=5
    )
    assert plan.run_now == MINUTE


def test_expression_without_further_fires_ends_the_scan() -> None:
    plan = plan_catch_up(
        lambda after: None, since_ms=0, now_ms=10 * MINUTE, grace_ms=MINUTE, last_run=None, limit=5
    )
    assert plan.run_now is None and plan.skipped == ()
