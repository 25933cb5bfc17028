"""Duration strings as the original Epoch and Drove write them (``"120 seconds"``, ``"5m"``).

A duration keeps the count and unit it was given: ``"5m"`` is output as ``"5 minutes"``, never
normalised to ``"300 seconds"``. A bare number is not a duration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_UNIT_SPELLINGS: dict[str, str] = {
    "ns": "nanoseconds",
    "nanosecond": "nanoseconds",
    "nanoseconds": "nanoseconds",
    "us": "microseconds",
    "microsecond": "microseconds",
    "microseconds": "microseconds",
    "ms": "milliseconds",
    "millisecond": "milliseconds",
    "milliseconds": "milliseconds",
    "s": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
}

_SECONDS_PER_UNIT: dict[str, float] = {
    "nanoseconds": 1e-9,
    "microseconds": 1e-6,
    "milliseconds": 1e-3,
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86400,
}

_PATTERN = re.compile(r"\s*(\d+)\s*([a-z]+)\s*")


class DurationError(ValueError):
    """Raised for text that is not a duration; the message says what was expected."""


@dataclass(frozen=True)
class Duration:
    """A count of a unit, as written in config files and JSON payloads."""

    count: int
    unit: str  # canonical, plural: "seconds", "minutes", ...

    @classmethod
    def parse(cls, text: object) -> Duration:
        if not isinstance(text, str):
            raise DurationError(f"expected a duration such as '30 seconds', got {text!r}")
        match = _PATTERN.fullmatch(text)
        if match is None or match.group(2) not in _UNIT_SPELLINGS:
            raise DurationError(f"'{text}' is not a duration such as '30 seconds' or '5m'")
        return cls(int(match.group(1)), _UNIT_SPELLINGS[match.group(2)])

    @classmethod
    def of_seconds(cls, seconds: int) -> Duration:
        return cls(seconds, "seconds")

    @property
    def seconds(self) -> float:
        return self.count * _SECONDS_PER_UNIT[self.unit]

    def as_timedelta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.count == 1 else self.unit
        return f"{self.count} {unit}"
