"""Wall-clock time in a time zone, resolved the way Quartz's Java calendar resolves it (stdlib only).

Quartz computes fire times on wall-clock fields of a lenient ``java.util.GregorianCalendar`` and turns
them into instants with the rules of that calendar:

* a wall time skipped by a spring-forward change is read with the offset in force before the
  change, so it lands as far past the gap as it was into it (02:30 becomes 03:30 in New York);
* a wall time repeated by a fall-back change is read with the offset after the change, i.e. its
  second (standard-time) occurrence.

Invariants: times are integers. ``wall`` counts seconds from 1970-01-01T00:00 on the zone's wall
clock, ``instant`` counts seconds since the epoch (UTC). Offsets come from ``zoneinfo``; each
stretch of about 48 days is sampled once and its transitions are located to the second, on the
assumption (true of the tz database) that a zone changes its offset at most once a day.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache

_STRETCH = 1 << 22  # seconds (about 48.5 days) of wall time or instants per cached stretch
_MARGIN = 2 * 86_400  # UTC offsets stay within a day, so wall times near an edge are covered
_SAMPLE = 86_400  # offsets are sampled daily, then each change is bisected to the second
_KEPT = 4096  # stretches kept per zone (about 540 years); a walk across centuries starts afresh


@dataclass(frozen=True, slots=True)
class _Stretch:
    base: int  # the offset before the first change
    changes: tuple[int, ...]  # instants at which the offset changes, ascending
    offsets: tuple[int, ...]  # the offset from each change on
    switches: tuple[int, ...]  # the wall time from which Java reads each change's offset


class ZoneClock:
    """Converts between wall times and instants in one zone, as Quartz's calendar does."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._stretches: dict[int, _Stretch] = {}

    def wall_at(self, instant: int) -> int:
        """The wall time shown at ``instant``."""
        stretch = self._stretch(instant // _STRETCH)
        index = bisect_right(stretch.changes, instant)
        return instant + (stretch.offsets[index - 1] if index else stretch.base)

    def resolve(self, wall: int) -> tuple[int, int]:
        """``(wall', instant)``: the wall time as the calendar normalises it, and its instant."""
        stretch = self._stretch(wall // _STRETCH)
        if not stretch.changes:
            return wall, wall - stretch.base
        index = bisect_right(stretch.switches, wall)
        instant = wall - (stretch.offsets[index - 1] if index else stretch.base)
        if index < len(stretch.changes) and instant >= stretch.changes[index]:
            # A time skipped by a spring-forward change keeps the earlier offset: past the gap.
            return instant + stretch.offsets[index], instant
        return wall, instant

    def _stretch(self, key: int) -> _Stretch:
        stretch = self._stretches.get(key)
        if stretch is None:
            if len(self._stretches) >= _KEPT:
                self._stretches.clear()
            stretch = self._stretches[key] = self._sample(key)
        return stretch

    def _sample(self, key: int) -> _Stretch:
        low, high = key * _STRETCH - _MARGIN, (key + 1) * _STRETCH + _MARGIN
        base = before = self._offset(low)
        changes: list[int] = []
        offsets: list[int] = []
        for start in range(low, high, _SAMPLE):
            end = min(start + _SAMPLE, high)
            after = self._offset(end)
            if after != before:
                changes.append(self._first_change(start, end, before))
                offsets.append(after)
                before = after
        switches = tuple(change + offset for change, offset in zip(changes, offsets, strict=True))
        return _Stretch(base, tuple(changes), tuple(offsets), switches)

    def _first_change(self, low: int, high: int, before: int) -> int:
        """The first instant in (low, high] whose offset differs from ``before``."""
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == before:
                low = middle
            else:
                high = middle
        return high

    def _offset(self, instant: int) -> int:
        offset = datetime.fromtimestamp(instant, self._zone).utcoffset()
        return 0 if offset is None else int(offset.total_seconds())


@lru_cache(maxsize=256)
def zone_clock(zone: tzinfo) -> ZoneClock:
    """One shared clock per zone, so sampled offsets are reused across expressions."""
    return ZoneClock(zone)
