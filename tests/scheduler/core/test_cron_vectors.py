"""Every shared Quartz vector: validity, and for valid expressions every fire time to the millisecond.

The vectors (``<repo>/../shared/cron-vectors/quartz-vectors.jsonl``) hold the answers of the real
Quartz 2.3.2 ``CronExpression``: ``t1 = next after start``, ``t(k+1) = next after tk``, shorter
than ``n`` when Quartz found no further fire time.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.core.cron import CronExpression, CronSyntaxError

VECTORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "cron-vectors"
CASES_FILE = VECTORS / "quartz-vectors.jsonl"
# No vector depends on the year Quartz ran in; any fixed year keeps the tests deterministic.
CURRENT_YEAR = 2026
FIELD_NAMES = {"second", "minute", "hour", "day-of-month", "month", "day-of-week", "year"}
# The vectors' own names for the fields in Epoch's deliberate rejections.
VECTOR_FIELD_NAMES = {
    "sec": "second",
    "min": "minute",
    "hour": "hour",
    "dom": "day-of-month",
    "month": "month",
    "dow": "day-of-week",
    "year": "year",
}


def load_cases() -> list[dict[str, Any]]:
    with CASES_FILE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


CASES = load_cases()


def fire_times_ms(case: dict[str, Any]) -> list[int]:
    expression = CronExpression.parse(case["expr"], current_year=CURRENT_YEAR)
    zone = ZoneInfo(case["tz"])
    current = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=case["start_ms"])
    fires: list[int] = []
    for _ in range(case["n"]):
        fire = expression.next_fire_after(current, zone)
        if fire is None:
            break
        assert fire.tzinfo is zone
        fires.append(round(fire.timestamp() * 1000))
        current = fire
    return fires


def test_the_shared_vectors_are_all_there() -> None:
    assert len(CASES) == 310
    assert sum(case["valid"] for case in CASES) == 222


@pytest.mark.parametrize("case", [c for c in CASES if c["valid"]], ids=lambda c: c["id"])
def test_valid_vector_fires_exactly_when_quartz_fires(case: dict[str, Any]) -> None:
    assert fire_times_ms(case) == case["next_ms"]


@pytest.mark.parametrize("case", [c for c in CASES if not c["valid"]], ids=lambda c: c["id"])
def test_invalid_vector_is_rejected_with_field_and_position(case: dict[str, Any]) -> None:
    with pytest.raises(CronSyntaxError) as raised:
        CronExpression.parse(case["expr"], current_year=CURRENT_YEAR)
    error = raised.value
    assert error.field in FIELD_NAMES | {"expression"}
    assert str(error).startswith(f"{error.field}: ")
    assert 0 <= error.position <= len(case["expr"])


@pytest.mark.parametrize("case", [c for c in CASES if "quartz" in c], ids=lambda c: c["id"])
def test_deliberate_rejection_names_the_same_field_as_the_vector(case: dict[str, Any]) -> None:
    with pytest.raises(CronSyntaxError) as raised:
        CronExpression.parse(case["expr"], current_year=CURRENT_YEAR)
    named = re.match(r"(\w+) field:", case["error"])
    expected = VECTOR_FIELD_NAMES[named.group(1)] if named else "expression"
    assert raised.value.field == expected
