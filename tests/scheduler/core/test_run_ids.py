from __future__ import annotations

from zoneinfo import ZoneInfo

from scheduler.core.run_ids import instant_run_id, scheduled_run_id

UTC = ZoneInfo("UTC")


def test_scheduled_id_is_the_fire_time_with_milliseconds() -> None:
    fire = 1729218600000  # 2024-10-18T02:30:00Z
    assert scheduled_run_id(fire, UTC) == "ESR-2024-10-18-02-30-00-000"


def test_instant_id_keeps_the_request_milliseconds() -> None:
    assert instant_run_id(1729246530123, UTC) == "EIR-2024-10-18-10-15-30-123"


def test_ids_use_the_scheduler_time_zone() -> None:
    fire = 1729198800000  # 2024-10-17T21:00:00Z is 02:30 in India
    assert scheduled_run_id(fire, ZoneInfo("Asia/Kolkata")) == "ESR-2024-10-18-02-30-00-000"


def test_a_repeated_wall_clock_time_maps_to_one_id() -> None:
    # Quartz fires only at the second occurrence of a repeated hour, so one schedule never
    # produces both instants; an instant run meeting a taken id moves on by a millisecond.
    zone = ZoneInfo("America/New_York")
    first = 1793511000000  # 2026-11-01T05:30:00Z = 01:30 EDT
    second = first + 3_600_000  # 01:30 EST
    assert scheduled_run_id(first, zone) == scheduled_run_id(second, zone)
