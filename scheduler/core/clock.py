"""Time for the scheduler: wall-clock instants come only from an injected clock.

Instants are epoch milliseconds (``int``), as on the wire. ``ManualClock`` lets tests and
simulations move time forward explicitly; nothing in the core ever sleeps.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """The current instant in epoch milliseconds."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, milliseconds: int) -> int:
        self._now += milliseconds
        return self._now

    def set(self, instant_ms: int) -> None:
        if instant_ms < self._now:
            raise ValueError("a manual clock never goes backwards")
        self._now = instant_ms
