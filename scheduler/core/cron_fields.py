"""Quartz cron expressions: the parsed form and its error type (stdlib only).

``CronFields`` holds, for each field of an expression, the sorted values Quartz 2.3.2's
``CronExpression`` would store, plus its day flags (``L``, ``L-n``, ``W``, ``nL``, ``n#k``).
``scheduler.core.cron_parser`` builds it; ``scheduler.core.cron`` searches it for fire times.

Invariants: values are Quartz's, markers included (99 = every value, 98 = '?' in the day fields);
``W`` and ``#`` apply to the smallest value of their field, as in Quartz; year ranges stop at
``LAST_YEAR``, after which Quartz never fires.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_SPEC = 98  # Quartz's stored value for '?'
ALL_SPEC = 99  # Quartz's stored marker for '*'
FIRST_YEAR = 1970
LAST_YEAR = 2999  # Quartz gives up looking for a fire time after this year
YEARS_AHEAD = 100  # Quartz accepts '*' years up to the current year + 100

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class CronSyntaxError(ValueError):
    """An expression Epoch does not accept; ``str()`` starts with the field name."""

    def __init__(self, field: str, position: int, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.position = position
        self.problem = problem


@dataclass(frozen=True, slots=True)
class FieldSpec:
    index: int
    name: str
    low: int
    high: int  # inclusive; the year's high is the current year + 100
    cycle: int  # ranges such as 22-2 wrap modulo this (0: the field does not wrap)
    step_limit: int | None  # the largest step after '*' or a single value

    @property
    def one_based(self) -> bool:
        return self.low == 1


SECOND = FieldSpec(0, "second", 0, 59, 60, 59)
MINUTE = FieldSpec(1, "minute", 0, 59, 60, 59)
HOUR = FieldSpec(2, "hour", 0, 23, 24, 23)
DAY_OF_MONTH = FieldSpec(3, "day-of-month", 1, 31, 31, 31)
MONTH = FieldSpec(4, "month", 1, 12, 12, 12)
DAY_OF_WEEK = FieldSpec(5, "day-of-week", 1, 7, 7, 7)
YEAR = FieldSpec(6, "year", FIRST_YEAR, FIRST_YEAR, 0, None)
FIELDS = (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)
DAY_FIELDS = (DAY_OF_MONTH, DAY_OF_WEEK)


@dataclass(frozen=True, slots=True)
class CronFields:
    """What an expression matches, as sorted value tuples and day flags (see the module doc)."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]
    years: tuple[int, ...]
    max_year: int
    last_day_of_month: bool = False
    last_day_offset: int = 0
    nearest_weekday: bool = False
    last_weekday_of_month: bool = False
    nth_weekday: int = 0

    @property
    def by_day_of_month(self) -> bool:
        """Days come from the day-of-month field (day-of-week is '?'), else from day-of-week."""
        return NO_SPEC not in self.days_of_month

    @property
    def can_fire(self) -> bool:
        """False when a field holds no value at all (e.g. day-of-month '98-5'); Quartz then fails."""
        day_values = self.days_of_month if self.by_day_of_month else self.days_of_week
        days_known = bool(day_values) or (self.by_day_of_month and self.last_day_of_month)
        times = (self.seconds, self.minutes, self.hours, self.months, self.years)
        return days_known and all(times)
