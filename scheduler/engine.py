"""The leader's scheduler: fires topologies on time and follows every running run to its end.

``step()`` does one round of work and says whether there was any; the ``run_scheduler`` command
loops over it and sleeps only when idle. Drove and ZooKeeper calls run in a bounded worker pool,
one job per run at a time; the loop itself only decides.

Invariants:
* only the leader fires: a node that is not leader holds no schedule and follows no run;
* a scheduled run's id is its fire time, created with create-if-absent, so a fire that another
  node already recorded is dropped, never run twice;
* on taking over, every RUNNING run of a non-deleted topology is followed from its record, and
  fires missed while no leader ran are run or recorded by the catch-up rule;
* Drove is polled with one call for all active tasks per interval, plus one read per task that
  left that list (its final state).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import close_old_connections
from django.db.models import Count, Q, Sum

from scheduler.core.catchup import MISSED_MESSAGE, LastScheduledRun, plan_catch_up
from scheduler.core.clock import Clock
from scheduler.core.planner import Fire, Planner
from scheduler.core.policy import DEFAULT_POLICY, Skip, decide_fire
from scheduler.core.run_ids import scheduled_run_id
from scheduler.core.runs import new_run
from scheduler.core.tasks import Limits, Observation
from scheduler.core.triggers import next_fire
from scheduler.events import EventBus, run_event
from scheduler.follower import FollowedRun, RunFollower
from scheduler.gateway import TaskGateway
from topologies import models
from topologies.domain import (
    AtTrigger,
    CronTrigger,
    RunInfo,
    RunState,
    RunType,
    TopologyDetails,
    TopologyState,
)
from topologies.retention import purge_expired_runs
from topologies.storage.base import Store, StoreError
from topologies.storage.sql import details_from_row

log = logging.getLogger(__name__)

RunKey = tuple[str, str]
MAX_REMEMBERED_ENDED = 100_000
FULL_RESCAN_MS = 300_000
UNREACHABLE = Observation(None, error_message="")


@dataclass
class CatchUp:
    """What a take-over owes for fires missed while no leader ran, gathered across topologies so
    that all of it is written in one pipelined round."""

    fires: list[Fire] = field(default_factory=list)
    missed: list[RunInfo] = field(default_factory=list)


@dataclass(frozen=True)
class EngineOptions:
    zone: ZoneInfo
    poll_interval_ms: int
    refresh_interval_ms: int
    cleanup_interval_ms: int
    runs_per_topology: int
    misfire_grace_ms: int
    limits: Limits
    workers: int = 48


class Engine:
    def __init__(
        self,
        store: Store,
        gateway: TaskGateway,
        clock: Clock,
        bus: EventBus,
        options: EngineOptions,
        is_leader: Callable[[], bool] = lambda: True,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        """``ready`` says whether this node's mirror is in step with the store: a new leader
        waits for it before taking over, since it takes over from the mirror."""
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.bus = bus
        self.options = options
        self.is_leader = is_leader
        self.ready = ready
        self.planner = Planner(options.zone, next_fire)
        self.follower = RunFollower(store, gateway, clock, bus, options.limits)
        # New runs start in a pool of their own: queued behind a poll's burst of task reads, a
        # fire's CREATE would reach Drove late.
        self.pool = ThreadPoolExecutor(max(1, options.workers // 2), thread_name_prefix="epoch-run")
        self.starts = ThreadPoolExecutor(
            max(1, options.workers // 2), thread_name_prefix="epoch-start"
        )
        # Polls get a thread of their own: queued behind a burst of starts they would come late.
        self.poller = ThreadPoolExecutor(1, thread_name_prefix="epoch-poll")
        self.followed: dict[RunKey, FollowedRun] = {}
        self._known: dict[str, TopologyDetails] = {}  # every topology, as last read
        self._busy: set[RunKey] = set()
        self._ended: dict[RunKey, None] = {}  # insertion-ordered set of recently ended runs
        self._polling = False
        self._lock = threading.Condition()
        self._leading = False
        self._due: dict[str, int] = {}  # periodic chores -> next time
        self._fingerprint: tuple[object, ...] | None = None

    # --- the loop's one step -------------------------------------------------------------------

    def step(self) -> bool:
        """One round of work; False when there was nothing to do."""
        if not self.is_leader():
            if self._leading:
                self.stand_down()
            return False
        now = self.clock.now_ms()
        worked = False
        if not self._leading:
            if not self.ready():
                return False  # elected, but the mirror is still catching up
            self.take_over(now)
            worked = True
        refresh = self._chore_due("refresh", now, self.options.refresh_interval_ms)
        firing = (self.planner.next_due_ms() or now + 1) <= now
        if refresh or firing:  # a fire goes by the definitions of this very moment
            worked |= self._refresh_topologies(now)
        if refresh:
            worked |= self._adopt_runs()
        worked |= self._fire(self.planner.due(now), now)
        if self._chore_due("poll", now, self.options.poll_interval_ms):
            worked |= self._submit_poll()
        if self._chore_due("retention", now, self.options.cleanup_interval_ms):
            self.pool.submit(self._retention)
        return worked

    def next_wake_ms(self) -> int | None:
        """When the loop next has work, if it knows (the next fire or chore)."""
        candidates = [t for t in (self.planner.next_due_ms(), *self._due.values()) if t is not None]
        return min(candidates, default=None)

    def _chore_due(self, name: str, now: int, interval_ms: int) -> bool:
        if now < self._due.get(name, 0):
            return False
        self._due[name] = now + interval_ms
        return True

    # --- leadership --------------------------------------------------------------------------

    def take_over(self, now: int) -> None:
        """Become the leader: follow every RUNNING run, schedule every ACTIVE topology (§17).

        Reads this node's mirror (``ready`` held first: it is in step with ZooKeeper), not every
        run record in ZooKeeper, which at a hundred thousand runs made a leader change take
        minutes. Each RUNNING run is read from the store itself before it is followed; a fire
        the mirror had not seen yet is created at most once all the same (fire-time run ids).
        """
        log.info("Taking over as leader")
        self._reset()
        self._leading = True
        topologies = models.Topology.objects.exclude(state=TopologyState.DELETED)
        self._known = {row.id: details_from_row(row) for row in topologies}
        self._adopt_runs()  # first: a catch-up fire must see a run still running
        last_runs = _last_scheduled_runs()
        owed = CatchUp()
        for details in list(self._known.values()):
            self._schedule(details, now, owed, last_runs.get(details.id))
        # Catch-up runs start from the follow pool: the next on-time fires, which use the start
        # pool, then never queue behind a take-over's backlog.
        self._fire(owed.fires, now, recorded=owed.missed, pool=self.pool)

    def stand_down(self) -> None:
        """Leadership lost: drop every schedule and stop following runs, writing nothing more."""
        log.info("Standing down: no longer the leader")
        self._reset()

    def _reset(self) -> None:
        self._leading = False
        self.planner.clear()
        with self._lock:
            for followed in self.followed.values():
                followed.gone = True
            self.followed.clear()
            self._ended.clear()
        self._known.clear()
        self._due.clear()
        self._fingerprint = None

    def close(self) -> None:
        self.stand_down()
        self.poller.shutdown(wait=True, cancel_futures=True)
        self.starts.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)

    # --- topologies ----------------------------------------------------------------------------

    def _refresh_topologies(self, now: int) -> bool:
        """Pick up creates, updates, pauses and deletes from this node's store mirror.

        One aggregate query tells whether anything changed; only then are all rows compared
        (and every few minutes regardless, so nothing rests on the aggregate alone).
        """
        fingerprint = _topologies_fingerprint()
        rescan = self._chore_due("rescan", now, FULL_RESCAN_MS)
        if fingerprint == self._fingerprint and not rescan:
            return False
        self._fingerprint = fingerprint
        rows = {tid: (state, updated) for tid, state, updated in _topology_signatures()}
        changed = [
            tid for tid, signature in rows.items() if _signature(self._known.get(tid)) != signature
        ]
        removed = [tid for tid in self._known if tid not in rows]
        for topology_id in removed:
            self._known.pop(topology_id)
            self.planner.forget(topology_id)
        for row in models.Topology.objects.filter(id__in=changed):
            self._schedule(details_from_row(row), now)
        return bool(changed or removed)

    def _schedule(
        self,
        details: TopologyDetails,
        now: int,
        catch_up: CatchUp | None = None,
        last: LastScheduledRun | None = None,
    ) -> None:
        """Track the topology's next fire; with ``catch_up`` (``last`` is then its newest
        scheduled run, or None for none) also add to it the fires missed while none led."""
        self._known[details.id] = details
        if details.state is not TopologyState.ACTIVE:
            self.planner.forget(details.id)
            return
        trigger = details.topology.trigger
        if isinstance(trigger, AtTrigger):
            if catch_up is not None:
                spent = last is not None and last.created >= trigger.time
            else:
                spent = _ran_since(details.id, trigger.time)
            self.planner.track(details, now, spent=spent)
            return
        if catch_up is not None:
            self._catch_up(details, trigger, now, last, catch_up)
        self.planner.track(details, now)

    def _catch_up(
        self,
        details: TopologyDetails,
        trigger: CronTrigger,
        now: int,
        last: LastScheduledRun | None,
        owed: CatchUp,
    ) -> None:
        since = max(details.updated, last.created if last else 0)
        plan = plan_catch_up(
            lambda after: next_fire(trigger, after, self.options.zone),
            since,
            now,
            self.options.misfire_grace_ms,
            last,
            self.options.runs_per_topology,
        )
        for index, fire_ms in enumerate(plan.skipped):
            message = plan.oldest_message if index == 0 else MISSED_MESSAGE
            owed.missed.append(self._skipped_run(details, fire_ms, now, message))
        if plan.run_now is not None:
            owed.fires.append(Fire(details.id, plan.run_now, RunType.SCHEDULED))

    # --- fires ---------------------------------------------------------------------------------

    def _fire(
        self,
        fires: Iterable[Fire],
        now: int,
        recorded: Sequence[RunInfo] = (),
        pool: ThreadPoolExecutor | None = None,
    ) -> bool:
        """Start or skip ``fires``; ``recorded`` are skipped runs decided already, written in the
        same round. New runs start from ``pool`` (default: the start pool)."""
        fires = list(fires)
        if not fires and not recorded:
            return False
        starts: list[tuple[RunInfo, TopologyDetails]] = []
        skips: list[RunInfo] = list(recorded)
        live = self._topologies_with_live_scheduled_run()
        for fire in fires:
            details = self._known.get(fire.topology_id)
            if details is None:
                self.planner.forget(fire.topology_id)
                continue
            decision = decide_fire(DEFAULT_POLICY, details.state, details.id in live)
            if isinstance(decision, Skip):
                skips.append(self._skipped_run(details, fire.fire_ms, now, decision.message))
                continue
            run_id = scheduled_run_id(fire.fire_ms, self.options.zone)
            starts.append((new_run(details, run_id, RunType.SCHEDULED, now), details))
        if not starts and not skips:
            return False
        # Starts and skips of one instant are written together, in one pipelined round.
        created = self._create_runs([run for run, _ in starts] + skips)
        started, skipped = created[: len(starts)], created[len(starts) :]
        for (run, details), was_created in zip(starts, started, strict=True):
            if was_created:
                self.bus.publish(run_event(run))
                self._follow(run, details, pool)
        for run, was_created in zip(skips, skipped, strict=True):
            if was_created:
                self.bus.publish(run_event(run))
        return True

    def _create_runs(self, runs: list[RunInfo]) -> list[bool]:
        try:
            return self.store.create_runs(runs)
        except StoreError as error:
            log.error("Could not record %d fires: %s", len(runs), error)
            return [False] * len(runs)

    def _skipped_run(
        self, details: TopologyDetails, fire_ms: int, now: int, message: str
    ) -> RunInfo:
        run_id = scheduled_run_id(fire_ms, self.options.zone)
        run = new_run(details, run_id, RunType.SCHEDULED, now)
        return run.finished(RunState.SKIPPED, message, now)

    def _topologies_with_live_scheduled_run(self) -> set[str]:
        with self._lock:
            runs = [f.run for f in self.followed.values()]
        return {run.topology_id for run in runs if run.run_type is RunType.SCHEDULED}

    # --- following runs ------------------------------------------------------------------------

    def _adopt_runs(self) -> bool:
        """Follow RUNNING runs this leader did not start (instant runs, runs of a former leader)."""
        running = models.TopologyRun.objects.filter(state=RunState.RUNNING).values_list(
            "topology_id", "run_id"
        )
        with self._lock:
            new = [key for key in running if key not in self.followed and key not in self._ended]
        adopted = False
        for topology_id, run_id in new:
            details = self._known.get(topology_id)  # None: deleted, or not read yet
            if details is None or details.state is TopologyState.DELETED:
                continue
            run = self.store.get_run(topology_id, run_id)
            if run is not None and run.state is RunState.RUNNING:
                self._follow(run, details)
                adopted = True
            else:
                self._remember_ended((topology_id, run_id))
        return adopted

    def _remember_ended(self, key: RunKey) -> None:
        """Runs that ended here may show RUNNING in the mirror a little longer: do not re-read them."""
        with self._lock:
            self._ended[key] = None
            while len(self._ended) > MAX_REMEMBERED_ENDED:
                self._ended.pop(next(iter(self._ended)))

    def _follow(
        self, run: RunInfo, details: TopologyDetails, pool: ThreadPoolExecutor | None = None
    ) -> None:
        followed = FollowedRun(run, details)
        with self._lock:
            self.followed[followed.key] = followed
        self._submit(followed, None, None, pool or self.starts)

    def _submit(
        self,
        followed: FollowedRun,
        name: str | None,
        seen: Observation | None,
        pool: ThreadPoolExecutor | None = None,
    ) -> bool:
        with self._lock:
            if followed.key in self._busy:
                return False
            self._busy.add(followed.key)
        (pool or self.pool).submit(self._advance, followed, name, seen)
        return True

    def _advance(self, followed: FollowedRun, name: str | None, seen: Observation | None) -> None:
        try:
            if name is not None and seen is None:
                seen = self.gateway.status(followed.run.tasks[name].task_id)
            if self.follower.advance(followed, name, seen) or followed.gone:
                with self._lock:
                    if self.followed.get(followed.key) is followed:
                        del self.followed[followed.key]
                self._remember_ended(followed.key)
        finally:
            close_old_connections()
            with self._lock:
                self._busy.discard(followed.key)
                self._lock.notify_all()

    # --- polling Drove -------------------------------------------------------------------------

    def _submit_poll(self) -> bool:
        with self._lock:
            if self._polling or not self.followed:
                return False
            self._polling = True
        self.poller.submit(self._poll)
        return True

    def _poll(self) -> None:
        try:
            active = self.gateway.active()
            with self._lock:
                watched = [(f, name) for f in self.followed.values() for name in f.following()]
            for followed, name in watched:
                self._dispatch(followed, name, active)
        finally:
            with self._lock:
                self._polling = False
                self._lock.notify_all()

    def _dispatch(
        self, followed: FollowedRun, name: str, active: Mapping[str, Observation] | None
    ) -> None:
        record = followed.run.tasks[name]
        if active is None:
            self._submit(followed, name, UNREACHABLE)
        elif record.task_id not in active:
            self._submit(followed, name, None)  # it left the active list: read its final state
        elif (seen := active[record.task_id]).state != record.state:
            self._submit(followed, name, seen)

    def _retention(self) -> None:
        try:
            report = purge_expired_runs(
                self.store, self.options.runs_per_topology, self.gateway.delete
            )
            if report.runs_deleted:
                log.info("Retention removed %d runs", report.runs_deleted)
        except StoreError as error:
            log.warning("Retention skipped: %s", error)
        finally:
            close_old_connections()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Wait until no job is in flight (tests and shutdown)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy and not self._polling, timeout_s)


def _ran_since(topology_id: str, instant_ms: int) -> bool:
    """Whether the topology has a scheduled run created at or after ``instant_ms``."""
    rows = models.TopologyRun.objects.filter(topology_id=topology_id, run_type=RunType.SCHEDULED)
    return rows.filter(created__gte=instant_ms).exists()


def _last_scheduled_runs() -> dict[str, LastScheduledRun]:
    """Every topology's newest scheduled run, from the mirror in one pass."""
    rows = models.TopologyRun.objects.filter(run_type=RunType.SCHEDULED).values_list(
        "topology_id", "created", "updated", "state"
    )
    last: dict[str, LastScheduledRun] = {}
    for topology_id, created, updated, state in rows.iterator(chunk_size=10_000):
        known = last.get(topology_id)
        if known is None or created > known.created:
            last[topology_id] = LastScheduledRun(created, updated, state == RunState.RUNNING)
    return last


def _topologies_fingerprint() -> tuple[object, ...]:
    """Changes with every create, delete, edit, pause and resume of any topology.

    Each write raises a row's ``version`` (a counter, or the ZooKeeper zxid in the mirror) and
    its ``updated``; a delete lowers the count; a state flip moves the ACTIVE count.
    """
    totals = models.Topology.objects.aggregate(
        rows=Count("id"),
        active=Count("id", filter=Q(state=TopologyState.ACTIVE)),
        versions=Sum("version"),
        updated=Sum("updated"),
    )
    return tuple(totals.values())


def _signature(details: TopologyDetails | None) -> tuple[str, int] | None:
    return (details.state.value, details.updated) if details else None


def _topology_signatures() -> list[tuple[str, str, int]]:
    return list(models.Topology.objects.values_list("id", "state", "updated"))
