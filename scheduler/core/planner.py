"""The schedule of every topology, in one timer heap: which fire is due, and what comes next.

Invariants:
* a topology has at most one pending fire; re-tracking it replaces that fire;
* a CRON topology's next fire is the first cron time strictly after the reference instant (when it
  was created, updated, unpaused or recovered), then strictly after each fire;
* an AT topology fires once, at its time or at once if that has passed, unless it is spent;
* a paused or deleted topology has no pending fire;
* instant runs wait in the same heap, due at the instant they were asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.core.policy import DEFAULT_POLICY, RunPolicy
from scheduler.core.timers import TimerHeap
from topologies.domain import AtTrigger, RunType, TopologyDetails, TopologyState, Trigger

NextFire = Callable[[Trigger, int, ZoneInfo], int | None]


@dataclass(frozen=True)
class Fire:
    topology_id: str
    fire_ms: int  # the target fire time of a scheduled run, the request time of an instant run
    run_type: RunType


@dataclass(frozen=True)
class _Tracked:
    trigger: Trigger
    zone: ZoneInfo


TimerKey = tuple[str, str, int]  # ("scheduled", topology id, 0) or ("instant", topology id, ms)


class Planner:
    def __init__(
        self,
        zone: ZoneInfo,
        next_fire: NextFire,
        policy_of: Callable[[TopologyDetails], RunPolicy] = lambda details: DEFAULT_POLICY,
    ) -> None:
        self.zone = zone
        self.next_fire = next_fire
        self.policy_of = policy_of
        self._timers: TimerHeap[TimerKey] = TimerHeap()
        self._tracked: dict[str, _Tracked] = {}

    def track(self, details: TopologyDetails, reference_ms: int, spent: bool = False) -> int | None:
        """(Re)schedule ``details`` from ``reference_ms``; returns its next fire time, if any."""
        key: TimerKey = ("scheduled", details.id, 0)
        if details.state is not TopologyState.ACTIVE or spent:
            self.forget(details.id)
            return None
        zone = self._zone_of(details)
        self._tracked[details.id] = _Tracked(details.topology.trigger, zone)
        due = self._first_fire(details.topology.trigger, reference_ms, zone)
        if due is None:
            self._timers.disarm(key)
        else:
            self._timers.arm(key, due)
        return due

    def forget(self, topology_id: str) -> None:
        """Drop the topology's pending fire (pause, delete, lost leadership)."""
        self._tracked.pop(topology_id, None)
        self._timers.disarm(("scheduled", topology_id, 0))

    def request_instant(self, topology_id: str, requested_ms: int) -> None:
        self._timers.arm(("instant", topology_id, requested_ms), requested_ms)

    def next_due_ms(self) -> int | None:
        return self._timers.next_due_ms()

    def pending_fire(self, topology_id: str) -> int | None:
        return self._timers.due_at(("scheduled", topology_id, 0))

    def due(self, now_ms: int) -> list[Fire]:
        """Every fire due by ``now_ms``, earliest first; CRON topologies are re-armed as they go."""
        fires = []
        for (kind, topology_id, _), due_ms in self._timers.pop_due(now_ms):
            if kind == "instant":
                fires.append(Fire(topology_id, due_ms, RunType.INSTANT))
                continue
            fires.append(Fire(topology_id, due_ms, RunType.SCHEDULED))
            self._rearm_after(topology_id, due_ms)
        return fires

    def clear(self) -> None:
        """Forget everything (leadership lost)."""
        self._timers = TimerHeap()
        self._tracked.clear()

    def _rearm_after(self, topology_id: str, fired_ms: int) -> None:
        tracked = self._tracked.get(topology_id)
        if tracked is None or isinstance(tracked.trigger, AtTrigger):
            self._tracked.pop(topology_id, None)  # one-shot: spent once fired
            return
        following = self.next_fire(tracked.trigger, fired_ms, tracked.zone)
        if following is not None:
            self._timers.arm(("scheduled", topology_id, 0), following)

    def _first_fire(self, trigger: Trigger, reference_ms: int, zone: ZoneInfo) -> int | None:
        if isinstance(trigger, AtTrigger):
            return max(trigger.time, reference_ms)  # a past time fires at once
        return self.next_fire(trigger, reference_ms, zone)

    def _zone_of(self, details: TopologyDetails) -> ZoneInfo:
        zone_name = self.policy_of(details).time_zone
        return ZoneInfo(zone_name) if zone_name else self.zone
