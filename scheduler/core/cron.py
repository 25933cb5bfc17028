"""Quartz cron expressions: validation and next fire times, exactly as Quartz 2.3.2 (stdlib only).

``CronExpression.parse`` validates an expression (rules in ``scheduler.core.cron_parser``);
``next_fire_after`` returns the first fire time strictly after an instant in a time zone, and
``fire_times`` the ones after it.

Quartz walks a lenient calendar field by field (second, minute, hour, day, month, year): each
step moves its field to the next allowed value, and when a step has to move the cursor the walk
starts over from the seconds. Its answers, the surprising ones included (``31W`` firing on
30 April when 1 May is a Saturday, a repeated fall-back hour firing only at its second
occurrence), follow from that walk, so Epoch walks the same way. Each step jumps straight to the
next allowed value (sorted value tuples and bisection), never second by second.

Invariants:

* Fire times are whole seconds, strictly after the start instant truncated to the second.
* Wall-clock times are read as Quartz's Java calendar reads them (``scheduler.core.cron_zone``):
  a time in a spring-forward gap never fires, because reading it pushes the cursor past the gap
  and the walk goes on from there; a repeated fall-back time fires once, at its second occurrence.
* The walk gives up (None) after the expression's last year, after the current year + 100 (as
  Quartz does), or - for the rare expressions on which Quartz itself never returns, such as
  ``L-30W`` from mid-January - after ``_MAX_STEPS`` passes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import Enum, auto
from functools import lru_cache

from scheduler.core.cron_fields import LAST_YEAR, CronFields, CronSyntaxError
from scheduler.core.cron_parser import parse_fields
from scheduler.core.cron_zone import ZoneClock, zone_clock

__all__ = ["CronExpression", "CronSyntaxError"]

_MAX_STEPS = 100_000  # a walk that ends needs a few passes per month, up to the year 2999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_DAY = 86_400
_SUNDAY, _SATURDAY = 1, 7  # Quartz numbers days of the week 1 (Sunday) to 7 (Saturday)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A validated Quartz cron expression."""

    text: str
    fields: CronFields

    @classmethod
    def parse(cls, text: str, *, current_year: int | None = None) -> CronExpression:
        """Validate ``text``; raise ``CronSyntaxError`` (a ``ValueError``) if Epoch rejects it.

        ``current_year`` bounds the year field as Quartz does (up to the current year + 100);
        by default it is this year, by the system clock.
        """
        year = datetime.now(UTC).year if current_year is None else current_year
        return _parse(text, year)

    def __str__(self) -> str:
        return self.text

    def next_fire_after(self, instant: datetime, zone: tzinfo) -> datetime | None:
        """The first fire time strictly after ``instant`` (timezone-aware), shown in ``zone``."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        seconds = (instant - _EPOCH) // timedelta(seconds=1)
        fire = self._first_fire_from(seconds + 1, zone)
        return None if fire is None else datetime.fromtimestamp(fire, zone)

    def next_fire_after_ms(self, instant_ms: int, zone: tzinfo) -> int | None:
        """Like ``next_fire_after`` on epoch milliseconds; None when there is no later fire."""
        fire = self._first_fire_from(instant_ms // 1000 + 1, zone)
        return None if fire is None else fire * 1000

    def fire_times(self, instant: datetime, zone: tzinfo) -> Iterator[datetime]:
        """Every fire time after ``instant``, in order (finite only if the expression ends)."""
        fire = self.next_fire_after(instant, zone)
        while fire is not None:
            yield fire
            fire = self.next_fire_after(fire, zone)

    def _first_fire_from(self, first_second: int, zone: tzinfo) -> int | None:
        if not self.fields.can_fire:
            return None
        return _Walk(self.fields, zone_clock(zone), first_second).run()


@lru_cache(maxsize=4096)
def _parse(text: str, current_year: int) -> CronExpression:
    # Thousands of topologies share a handful of schedules: parse each text once.
    return CronExpression(text, parse_fields(text, current_year))


class _Step(Enum):
    STAY = auto()  # this field already matches: go on to the next field
    MOVED = auto()  # the cursor moved: start over from the seconds
    NEVER = auto()  # no fire time is left


class _Walk:
    """One search for the first fire time at or after ``first_second`` (an instant)."""

    def __init__(self, fields: CronFields, clock: ZoneClock, first_second: int) -> None:
        self.fields = fields
        self.first_second = first_second
        self.at = _Cursor(clock, clock.wall_at(first_second))
        self._steps = (self._minute, self._hour, self._day, self._month, self._year)

    def run(self) -> int | None:
        for _ in range(_MAX_STEPS):
            if self.at.year > LAST_YEAR:
                return None
            outcome = self._pass()
            if outcome is _Step.STAY:
                return self.at.instant()
            if outcome is _Step.NEVER:
                return None
        return None

    def _pass(self) -> _Step:
        """One pass over the fields, smallest first; STAY when every field matches."""
        self._second()
        for step in self._steps:
            outcome = step()
            if outcome is not _Step.STAY:
                return outcome
        return _Step.STAY

    def _second(self) -> None:
        at, seconds = self.at, self.fields.seconds
        following = _at_or_after(seconds, at.second)
        if following is None:
            at.move(at.year, at.month, at.day, at.hour, at.minute + 1, seconds[0])
        elif following != at.second:
            at.set_second(following)

    def _minute(self) -> _Step:
        at, minutes = self.at, self.fields.minutes
        following = _at_or_after(minutes, at.minute)
        if following == at.minute:
            return _Step.STAY
        if following is None:
            at.move_to_hour(at.day, at.hour + 1, minutes[0])
        else:
            at.move_to_hour(at.day, at.hour, following)
        return _Step.MOVED

    def _hour(self) -> _Step:
        at, hours = self.at, self.fields.hours
        following = _at_or_after(hours, at.hour)
        if following == at.hour:
            return _Step.STAY
        if following is None:
            at.move_to_hour(at.day + 1, hours[0], 0)
        else:
            at.move_to_hour(at.day, following, 0)
        return _Step.MOVED

    def _day(self) -> _Step:
        if self.fields.by_day_of_month:
            target = self._day_of_month_target()
        else:
            target = self._day_of_week_target()
        if target is None:
            return _Step.STAY
        self.at.move(*target, 0, 0, 0)
        return _Step.MOVED

    def _month(self) -> _Step:
        at, months = self.at, self.fields.months
        if at.year > self.fields.max_year:
            return _Step.NEVER
        following = _at_or_after(months, at.month)
        if following == at.month:
            return _Step.STAY
        if following is None:
            at.move(at.year + 1, months[0], 1, 0, 0, 0)
        else:
            at.move(at.year, following, 1, 0, 0, 0)
        return _Step.MOVED

    def _year(self) -> _Step:
        following = _at_or_after(self.fields.years, self.at.year)
        if following is None or following > LAST_YEAR:
            return _Step.NEVER
        if following == self.at.year:
            return _Step.STAY
        self.at.move(following, 1, 1, 0, 0, 0)
        return _Step.MOVED

    # Day targets: the (year, month, day) to move to, read leniently (month 13 is next January,
    # day 0 the previous month's last day), or None when the cursor's day matches.

    def _day_of_month_target(self) -> tuple[int, int, int] | None:
        fields, at = self.fields, self.at
        if fields.last_day_of_month:
            day = _days_in_month(at.year, at.month) - fields.last_day_offset
            if fields.nearest_weekday:
                return self._nearest_weekday_target(day, 1)
            return (at.year, at.month + 1, 1) if at.day > day else self._same_month(day)
        if fields.nearest_weekday:
            # Quartz applies W to the smallest listed day only.
            first = fields.days_of_month[0]
            return self._nearest_weekday_target(first, first)
        following = _at_or_after(fields.days_of_month, at.day)
        if following is None or following > _days_in_month(at.year, at.month):
            return at.year, at.month + 1, fields.days_of_month[0]
        return self._same_month(following)

    def _nearest_weekday_target(self, day: int, next_month_day: int) -> tuple[int, int, int] | None:
        at = self.at
        weekday = _quartz_weekday_day(at.year, at.month, day)
        fire = at.instant_of(at.year, at.month, weekday, at.hour, at.minute, at.second)
        if fire < self.first_second:
            return at.year, at.month + 1, next_month_day
        return self._same_month(weekday)

    def _day_of_week_target(self) -> tuple[int, int, int] | None:
        fields, at = self.fields, self.at
        today = _quartz_day_of_week(at.ordinal)
        last = _days_in_month(at.year, at.month)
        if fields.last_weekday_of_month:
            return self._last_weekday_target(today, last)
        if fields.nth_weekday:
            return self._nth_weekday_target(today, last)
        wanted = _at_or_after(fields.days_of_week, today)
        ahead = _days_until(today, fields.days_of_week[0] if wanted is None else wanted)
        if at.day + ahead > last:
            return at.year, at.month + 1, 1
        return self._same_month(at.day + ahead)

    def _last_weekday_target(self, today: int, last: int) -> tuple[int, int, int] | None:
        at = self.at
        ahead = _days_until(today, self.fields.days_of_week[0])
        if at.day + ahead > last:
            return at.year, at.month + 1, 1
        ahead += 7 * ((last - at.day - ahead) // 7)  # the month's last such day
        return self._same_month(at.day + ahead)

    def _nth_weekday_target(self, today: int, last: int) -> tuple[int, int, int] | None:
        at = self.at
        ahead = _days_until(today, self.fields.days_of_week[0])
        day = at.day + ahead
        weeks_ahead = self.fields.nth_weekday - (day + 6) // 7
        day += 7 * weeks_ahead
        if weeks_ahead < 0 or day > last:
            return at.year, at.month + 1, 1
        return self._same_month(day)

    def _same_month(self, day: int) -> tuple[int, int, int] | None:
        at = self.at
        return None if day == at.day else (at.year, at.month, day)


class _Cursor:
    """A wall-clock position; every move goes through Java's lenient field arithmetic."""

    __slots__ = ("clock", "day", "hour", "minute", "month", "ordinal", "second", "wall", "year")

    def __init__(self, clock: ZoneClock, wall: int) -> None:
        self.clock = clock
        self._load(wall)

    def _load(self, wall: int) -> None:
        self.wall = wall
        days, seconds = divmod(wall, _DAY)
        self.ordinal = days + _EPOCH_ORDINAL
        today = date.fromordinal(self.ordinal)
        self.year, self.month, self.day = today.year, today.month, today.day
        self.hour, seconds = divmod(seconds, 3600)
        self.minute, self.second = divmod(seconds, 60)

    def move(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> None:
        """Set every field at once: overflow carries over, a time in a gap lands past it."""
        self._load(self.clock.resolve(_lenient_wall(year, month, day, hour, minute, second))[0])

    def move_to_hour(self, day: int, hour: int, minute: int) -> None:
        """Quartz's setCalendarHour: if a gap moved the hour, set the next hour explicitly."""
        self.move(self.year, self.month, day, hour, minute, 0)
        if self.hour != hour and hour != 24:
            self.move(self.year, self.month, self.day, hour + 1, self.minute, self.second)

    def instant(self) -> int:
        return self.clock.resolve(self.wall)[1]

    def instant_of(
        self, year: int, month: int, day: int, hour: int, minute: int, second: int
    ) -> int:
        return self.clock.resolve(_lenient_wall(year, month, day, hour, minute, second))[1]

    def set_second(self, second: int) -> None:
        if second >= 60:
            self.move(self.year, self.month, self.day, self.hour, self.minute, second)
            return
        # Zones change offset on whole minutes, so a second within the minute is never skipped.
        self.wall += second - self.second
        self.second = second


def _lenient_wall(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """Wall seconds for fields that may overflow, as java.util.Calendar reads them leniently."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    days = date(year, month, 1).toordinal() - _EPOCH_ORDINAL + day - 1
    return days * _DAY + hour * 3600 + minute * 60 + second


def _at_or_after(values: tuple[int, ...], value: int) -> int | None:
    index = bisect_left(values, value)
    return values[index] if index < len(values) else None


def _days_in_month(year: int, month: int) -> int:
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return _MONTH_DAYS[month - 1] + leap


def _quartz_day_of_week(ordinal: int) -> int:
    return ordinal % 7 + 1  # proleptic ordinal 1 is a Monday; Quartz counts Sunday as 1


def _days_until(today: int, wanted: int) -> int:
    # Quartz's own arithmetic, which also gives its answers for unchecked values such as 8#2.
    if today < wanted:
        return wanted - today
    return wanted + 7 - today if today > wanted else 0


def _quartz_weekday_day(year: int, month: int, day: int) -> int:
    """Quartz's ``W``: Saturday moves to Friday (to Monday on the 1st), Sunday to Monday (to
    Friday on the month's last day). ``day`` may lie outside the month; Quartz reads it leniently.
    """
    weekday = _quartz_day_of_week(date(year, month, 1).toordinal() + day - 1)
    if weekday == _SATURDAY:
        return day + 2 if day == 1 else day - 1
    if weekday == _SUNDAY:
        return day - 2 if day == _days_in_month(year, month) else day + 1
    return day
