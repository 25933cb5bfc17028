"""Engine options for tests that drive an ``Engine`` step by step on an injected clock."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from scheduler.core.tasks import Limits
from scheduler.engine import EngineOptions

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
