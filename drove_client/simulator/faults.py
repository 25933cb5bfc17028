"""Faults the control interface injects into the simulated controllers' ``/apis`` traffic.

A fault applies to the requests it matches (controller, and a substring of ``"<METHOD> <path>"``),
for ``remaining`` requests or until cleared. Modes:

* ``drop``: read the request, close the connection without answering (nothing is processed);
* ``delay``: process the request, then hold the answer ``delay_s`` (an accepted CREATE whose answer
  arrives after the client's time-out);
* ``delay-before``: hold ``delay_s``, then process and answer;
* ``status``: answer ``status`` without processing: ``body`` verbatim as JSON when given, else
  500 as Drove's "Unexpected Server error" naming ``message``, 502/503/504 as a load balancer's
  page, anything else as a FAILED envelope with ``message`` (default "Test failure", the texts of
  the scenarios);
* ``not-leader``: answer 400 "This node is not the leader controller".

Refused connections are not a per-request fault: the controller closes its listening socket
(``DroveSimulator.refuse``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from epoch_site.durations import Duration

MODES = ("drop", "delay", "delay-before", "status", "not-leader")


@dataclass
class Fault:
    mode: str
    status: int = 503
    delay_s: float = 2.0
    match: str = ""
    remaining: int | None = None  # None: until cleared
    controller: int | None = None  # None: every controller
    message: str = "Test failure"
    body: Any = None  # a JSON value answered verbatim by a ``status`` fault

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(
                f"unknown fault mode {self.mode!r}; expected one of {', '.join(MODES)}"
            )

    def matches(self, controller: int, method: str, path: str) -> bool:
        if self.controller is not None and self.controller != controller:
            return False
        return self.match in f"{method} {path}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        return cls(
            mode=str(data.get("mode", "")),
            status=int(data.get("status", 503)),
            delay_s=seconds(data.get("delay", 2.0)),
            match=str(data.get("match") or ""),
            remaining=None if data.get("count") is None else int(data["count"]),
            controller=None if data.get("controller") is None else int(data["controller"]),
            message=str(data.get("message") or "Test failure"),
            body=data.get("body"),
        )


def seconds(value: Any) -> float:
    """A number of seconds, or a duration string such as ``"1500ms"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return Duration.parse(value).seconds


class FaultBook:
    """The active faults; the first match wins and uses up one of its ``remaining`` requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, controller: int, method: str, path: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(controller, method, path)), None)
            if fault is not None and fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
