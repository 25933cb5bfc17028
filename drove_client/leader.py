"""Which Drove controller is the leader (drove-api.md §9.2).

Only the leader serves Drove's API; the others answer 400 "not the leader". With one endpoint that
endpoint is always used and never probed. With several, the leader is found with
``GET /apis/v1/ping`` (200 = leader):

* lazily, before a call, when the last check is older than ``check_interval`` - an idle client
  sends nothing, a busy one at most one ping per interval;
* at once on the next call after ``forget()``, which callers invoke on a connection error or a
  400 "This node is not the leader controller";
* the current leader is asked first; if it does not answer 200 every endpoint is asked in the
  configured order and the first answering 200 wins.

Invariants: while no leader is known ``current()`` returns None (calls are not sent); at most one
thread probes at a time, the others wait for its answer instead of probing too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class LeaderTracker:
    def __init__(
        self,
        endpoints: Sequence[str],
        answers_ping: Callable[[str], bool],
        check_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not endpoints:
            raise ValueError("at least one Drove endpoint is required")
        self.endpoints = tuple(endpoints)
        self._answers_ping = answers_ping
        self._check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._leader: str | None = self.endpoints[0] if self.single else None
        self._checked_at: float | None = None

    @property
    def single(self) -> bool:
        """One endpoint: it is the leader by definition and is never pinged."""
        return len(self.endpoints) == 1

    def current(self) -> str | None:
        """The leader's base URL, re-checked when due; None while no controller claims leadership."""
        if self.single:
            return self._leader
        with self._lock:
            if (
                self._checked_at is None
                or self._clock() - self._checked_at >= self._check_interval_s
            ):
                self._leader = self._find_leader()
                self._checked_at = self._clock()
            return self._leader

    def known(self) -> str | None:
        """The leader as last seen, without probing (for links, where a ping would be too slow)."""
        return self._leader

    def forget(self, endpoint: str) -> None:
        """``endpoint`` failed or said it is not the leader: probe again before the next call."""
        if self.single:
            return
        with self._lock:
            if self._leader == endpoint:
                log.info("Drove controller %s is no longer reachable as leader", endpoint)
                self._leader = None
            self._checked_at = None

    def _find_leader(self) -> str | None:
        previous = self._leader
        if previous is not None and self._answers_ping(previous):
            return previous
        # The previous leader just failed its ping: asking it again in the same round only costs time.
        candidates = (e for e in self.endpoints if e != previous)
        leader = next((e for e in candidates if self._answers_ping(e)), None)
        if leader != previous:
            log.info("Drove leader is now %s", leader or "unknown (no controller answered ping)")
        return leader
