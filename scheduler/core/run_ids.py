"""Run ids: ``ESR-`` + the target fire time for scheduled runs, ``EIR-`` + request time for instant.

The timestamp is formatted ``yyyy-MM-dd-HH-mm-ss-SSS`` in the scheduler's time zone, so a
scheduled run's id is a pure function of its fire: two nodes firing the same instant name the same
run, and create-if-absent lets only one of them write it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SCHEDULED_PREFIX = "ESR"
INSTANT_PREFIX = "EIR"


def scheduled_run_id(fire_ms: int, zone: ZoneInfo) -> str:
    return _run_id(SCHEDULED_PREFIX, fire_ms, zone)


def instant_run_id(requested_ms: int, zone: ZoneInfo) -> str:
    return _run_id(INSTANT_PREFIX, requested_ms, zone)


def _run_id(prefix: str, instant_ms: int, zone: ZoneInfo) -> str:
    seconds, millis = divmod(instant_ms, 1000)
    local = datetime.fromtimestamp(seconds, tz=zone)
    return f"{prefix}-{local:%Y-%m-%d-%H-%M-%S}-{millis:03d}"
