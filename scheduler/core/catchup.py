"""Fires missed while no leader ran, and what a new leader does about them (epoch-model.md §14.7).

The latest missed fire F runs once, at once, under its own fire-time id, when it is no older than
the misfire grace period and the topology's last scheduled run had finished before F. Every other
missed fire is recorded as a SKIPPED run saying it was missed, never silently dropped; past
``limit`` such records the oldest fires are only counted, in the message of the oldest record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MISSED_MESSAGE = "Task skipped: fire missed while no Epoch leader was running"
MAX_SCAN = 100_000  # fires examined per topology; an outage longer than this is reported as such


@dataclass(frozen=True)
class LastScheduledRun:
    created: int
    updated: int
    running: bool


@dataclass(frozen=True)
class CatchUp:
    run_now: int | None  # the fire to run at once, if any
    skipped: tuple[int, ...]  # fires to record as SKIPPED, oldest first
    unrecorded: int  # missed fires older than the recorded ones

    @property
    def oldest_message(self) -> str:
        """The message of the oldest skipped record, counting the fires not recorded."""
        if not self.unrecorded:
            return MISSED_MESSAGE
        return f"{MISSED_MESSAGE} ({self.unrecorded} earlier missed fires not recorded)"


NO_CATCH_UP = CatchUp(None, (), 0)


def plan_catch_up(
    next_fire: Callable[[int], int | None],
    since_ms: int,
    now_ms: int,
    grace_ms: int,
    last_run: LastScheduledRun | None,
    limit: int,
) -> CatchUp:
    """Decide for fires in (``since_ms``, ``now_ms``]; ``next_fire(t)`` is the first fire after t."""
    recent, total = _missed_fires(next_fire, since_ms, now_ms, limit + 1)
    if not recent:
        return NO_CATCH_UP
    latest = recent[-1]
    if now_ms - latest <= grace_ms and _finished_before(last_run, latest):
        kept = tuple(recent[:-1])[-limit:] if limit else ()
        return CatchUp(latest, kept, total - 1 - len(kept))
    kept = tuple(recent)[-limit:] if limit else ()
    return CatchUp(None, kept, total - len(kept))


def _missed_fires(
    next_fire: Callable[[int], int | None], since_ms: int, now_ms: int, keep: int
) -> tuple[list[int], int]:
    recent: deque[int] = deque(maxlen=keep)
    total, cursor = 0, since_ms
    while total < MAX_SCAN:
        fire = next_fire(cursor)
        if fire is None or fire > now_ms:
            break
        recent.append(fire)
        total, cursor = total + 1, fire
    return list(recent), total


def _finished_before(last_run: LastScheduledRun | None, fire_ms: int) -> bool:
    if last_run is None:
        return True
    return last_run.created < fire_ms and not last_run.running and last_run.updated < fire_ms
