"""The next fire times of a cron expression, for people checking a schedule before saving it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.core.cron import CronExpression
from scheduler.cron_text import describe

MAX_COUNT = 100


class PreviewError(ValueError):
    """Bad input; ``problems`` name each field and what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Preview:
    expression: str
    timezone: str
    description: str
    fire_times_ms: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        zone = ZoneInfo(self.timezone)
        fires = [{"epochMs": ms, "iso": iso_time(ms, zone)} for ms in self.fire_times_ms]
        return {
            "expression": self.expression,
            "timezone": self.timezone,
            "description": self.description,
            "nextFireTimes": fires,
        }


def iso_time(epoch_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=zone).isoformat(timespec="milliseconds")


def preview(expression: str, timezone: str, count: int, after_ms: int) -> Preview:
    """Up to ``count`` fire times strictly after ``after_ms``; raises ``PreviewError``."""
    problems = []
    zone = _zone(timezone, problems)
    if not 1 <= count <= MAX_COUNT:
        problems.append(f"count must be between 1 and {MAX_COUNT}")
    cron = _cron(expression, problems)
    if problems or cron is None or zone is None:
        raise PreviewError(problems)
    start = datetime.fromtimestamp(after_ms / 1000, tz=zone)
    fires = tuple(round(f.timestamp() * 1000) for f in islice(cron.fire_times(start, zone), count))
    return Preview(expression, timezone, describe(expression), fires)


def _zone(name: str, problems: list[str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone '{name}' is not an IANA time zone such as Europe/London")
        return None


def _cron(expression: str, problems: list[str]) -> CronExpression | None:
    if not expression.strip():
        problems.append("expression must not be empty")
        return None
    try:
        return CronExpression.parse(expression)
    except ValueError as error:
        problems.append(f"expression {error}")
        return None
