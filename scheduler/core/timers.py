"""One heap of timers for everything the scheduler waits for.

Each timer has a key (a topology's next fire, an instant run, ...); arming a key again replaces its
previous timer, and disarming removes it. Replaced and disarmed entries stay in the heap until they
surface and are skipped (lazy deletion), so every operation is O(log n).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass(order=True)
class _Entry(Generic[Key]):
    due_ms: int
    sequence: int
    key: Key = field(compare=False)


class TimerHeap(Generic[Key]):
    def __init__(self) -> None:
        self._heap: list[_Entry[Key]] = []
        self._live: dict[Key, _Entry[Key]] = {}
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def arm(self, key: Key, due_ms: int) -> None:
        """Fire ``key`` at ``due_ms``, replacing any timer it had."""
        entry = _Entry(due_ms, next(self._sequence), key)
        self._live[key] = entry
        heapq.heappush(self._heap, entry)

    def disarm(self, key: Key) -> None:
        self._live.pop(key, None)

    def due_at(self, key: Key) -> int | None:
        entry = self._live.get(key)
        return entry.due_ms if entry else None

    def next_due_ms(self) -> int | None:
        self._drop_dead_head()
        return self._heap[0].due_ms if self._heap else None

    def pop_due(self, now_ms: int) -> list[tuple[Key, int]]:
        """Remove and return every timer due at or before ``now_ms``, earliest first."""
        due: list[tuple[Key, int]] = []
        while True:
            self._drop_dead_head()
            if not self._heap or self._heap[0].due_ms > now_ms:
                return due
            entry = heapq.heappop(self._heap)
            del self._live[entry.key]
            due.append((entry.key, entry.due_ms))

    def _drop_dead_head(self) -> None:
        while self._heap and self._live.get(self._heap[0].key) is not self._heap[0]:
            heapq.heappop(self._heap)
