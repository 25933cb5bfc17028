"""For tests that drive an ``Engine`` step by step on an injected clock: its options, and
stepping until the simulated Drove tasks have moved on."""

from __future__ import annotations

import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from scheduler.core.tasks import Limits
from scheduler.engine import Engine, EngineOptions

START = 1_772_323_200_000  # 2026-03-01T00:00:00Z
SECOND = 1000

# Every step refreshes and polls; retention stays out of the way; few workers.
STEPPED_OPTIONS = EngineOptions(
    zone=ZoneInfo("UTC"),
    poll_interval_ms=0,
    refresh_interval_ms=0,
    cleanup_interval_ms=3_600_000,
    runs_per_topology=100,
    misfire_grace_ms=600_000,
    limits=Limits(retry_count=3, missing_task_timeout_ms=600_000),
    workers=4,
)


def step(engine: Engine) -> None:
    """One round of the scheduler's loop at the current clock time, and the work it started."""
    engine.step()
    engine.wait_idle()


def settle(engine: Engine, done: Callable[[], bool] | None = None, timeout_s: float = 10.0) -> None:
    """Step without moving schedule time until ``done`` (default: no run is followed); only
    real time passes, for the simulated Drove tasks to progress."""
    finished = done or (lambda: not engine.followed)
    deadline = time.monotonic() + timeout_s
    while True:
        step(engine)
        if finished():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the engine did not settle in time")
        time.sleep(0.02)
