"""One thread that runs callbacks when they fall due: the simulated executors' clock.

State changes happen here, never in request handlers, so a task progresses whether or not anyone
asks about it. Callbacks run one at a time in due order; a callback that raises is logged and the
thread carries on.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class TimerThread:
    def __init__(self, name: str = "drove-sim-timers") -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wakeup:
            self._stopped = True
            self._wakeup.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> None:
        due = time.monotonic() + max(0.0, delay_s)
        with self._wakeup:
            heapq.heappush(self._queue, (due, next(self._order), callback))
            self._wakeup.notify()

    def _run(self) -> None:
        while True:
            callback = self._next_due()
            if callback is None:
                return
            try:
                callback()
            except Exception:  # one broken task must not stop every other task's clock
                log.exception("Simulator timer callback failed")

    def _next_due(self) -> Callable[[], None] | None:
        with self._wakeup:
            while not self._stopped:
                if not self._queue:
                    self._wakeup.wait()
                    continue
                wait_s = self._queue[0][0] - time.monotonic()
                if wait_s <= 0:
                    return heapq.heappop(self._queue)[2]
                self._wakeup.wait(wait_s)
            return None
