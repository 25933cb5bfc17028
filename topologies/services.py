"""Every state change of a topology happens here, once, whichever view or command asks for it.

Views parse and render; these functions check what only the store can tell (existence, state),
write through the store, publish the event and touch Drove where the change requires it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.core.clock import Clock
from scheduler.core.run_ids import instant_run_id
from scheduler.core.runs import new_run
from scheduler.events import EpochEvent, EventBus, EventType, Tag, run_event
from topologies.codec.documents import trigger_to_json
from topologies.domain import (
    UNKNOWN_UPSTREAM,
    RunInfo,
    RunState,
    RunType,
    TaskRecord,
    Topology,
    TopologyDetails,
    TopologyState,
)
from topologies.simple import SimpleRequest, apply_edit
from topologies.storage.base import NotFound, Store

log = logging.getLogger(__name__)

MAX_INSTANT_ID_ATTEMPTS = 1000


class DroveOps(Protocol):
    def kill(self, task_id: str) -> tuple[bool, str]: ...

    def delete(self, upstream_id: str) -> bool: ...

    def log_link(self, upstream_id: str) -> str | None: ...


@dataclass
class Services:
    store: Store
    bus: EventBus
    clock: Clock
    zone: ZoneInfo
    drove_factory: Callable[[], DroveOps]

    @cached_property
    def drove(self) -> DroveOps:
        """Built on first use: most requests never reach Drove."""
        return self.drove_factory()


def create_topology(ctx: Services, topology: Topology) -> TopologyDetails:
    """Store a new ACTIVE topology; ``AlreadyExists`` if its name is taken."""
    now = ctx.clock.now_ms()
    details = TopologyDetails(topology.name, topology, TopologyState.ACTIVE, now, now)
    ctx.store.create_topology(details)
    _publish(ctx, EventType.TOPOLOGY_STATE_CHANGED, details.id, {Tag.NEW_STATE: "ACTIVE"})
    return details


def update_topology(ctx: Services, topology_id: str, topology: Topology) -> TopologyDetails:
    """Replace the definition; state, created and the run history are kept."""
    now = ctx.clock.now_ms()
    details = ctx.store.update_topology(
        topology_id, _live(lambda d: replace(d, topology=topology, updated=now), topology_id)
    )
    _publish_updated(ctx, details)
    return details


def edit_topology(ctx: Services, topology_id: str, request: SimpleRequest) -> TopologyDetails:
    """The simple form's lossless edit; ``NotEditable`` for a composite task."""
    now = ctx.clock.now_ms()
    details = ctx.store.update_topology(
        topology_id,
        _live(lambda d: replace(d, topology=apply_edit(d, request), updated=now), topology_id),
    )
    _publish_updated(ctx, details)
    return details


def pause_topology(ctx: Services, topology_id: str) -> TopologyDetails:
    return _set_state(ctx, topology_id, TopologyState.PAUSED)


def unpause_topology(ctx: Services, topology_id: str) -> TopologyDetails:
    return _set_state(ctx, topology_id, TopologyState.ACTIVE)


def _set_state(ctx: Services, topology_id: str, state: TopologyState) -> TopologyDetails:
    """Pause or unpause; asking for the state it already has writes and publishes nothing."""
    changed = False

    def change(details: TopologyDetails) -> TopologyDetails | None:
        nonlocal changed
        changed = details.state is not state
        return details.with_state(state, ctx.clock.now_ms()) if changed else None

    details = ctx.store.update_topology(topology_id, _live(change, topology_id))
    if changed:
        _publish_updated(ctx, details)
    return details


def delete_topology(ctx: Services, topology_id: str) -> bool:
    """Kill the topology's running tasks, clean their Drove records, delete it and its runs."""
    runs = ctx.store.list_runs(topology_id)
    for run in runs:
        _stop_on_drove(ctx, run)
    deleted = ctx.store.delete_topology(topology_id)
    if deleted:
        _publish(ctx, EventType.TOPOLOGY_STATE_CHANGED, topology_id, {Tag.NEW_STATE: "DELETED"})
    return deleted


def _stop_on_drove(ctx: Services, run: RunInfo) -> None:
    for record in run.tasks.values():
        if not _usable_upstream(record):
            continue
        if run.state is RunState.RUNNING and not record.state.is_terminal:
            accepted, message = ctx.drove.kill(record.task_id)
            if not accepted:
                log.warning("Kill of %s on delete failed: %s", record.task_id, message)
        elif record.state.is_terminal and record.upstream_id:
            ctx.drove.delete(record.upstream_id)


def run_now(ctx: Services, topology_id: str) -> str | None:
    """Record an INSTANT run for the leader to start; None if the topology does not exist."""
    details = ctx.store.get_topology(topology_id)
    if details is None or details.state is TopologyState.DELETED:
        return None
    requested = ctx.clock.now_ms()
    for offset in range(MAX_INSTANT_ID_ATTEMPTS):
        run = new_run(
            details, instant_run_id(requested + offset, ctx.zone), RunType.INSTANT, requested
        )
        if ctx.store.create_run(run):
            ctx.bus.publish(run_event(run))
            return run.run_id
    return None


def kill_task(
    ctx: Services, topology_id: str, run_id: str, task_name: str
) -> tuple[bool, str] | None:
    """Ask Drove to kill a task of a run; None if there is no such run or task."""
    record = _task_record(ctx, topology_id, run_id, task_name)
    if record is None:
        return None
    return ctx.drove.kill(record.task_id)


def task_log_link(ctx: Services, topology_id: str, run_id: str, task_name: str) -> str | None:
    record = _task_record(ctx, topology_id, run_id, task_name)
    if record is None or not _usable_upstream(record):
        return None
    return ctx.drove.log_link(record.upstream_id or "")


def _task_record(ctx: Services, topology_id: str, run_id: str, task_name: str) -> TaskRecord | None:
    run = ctx.store.get_run(topology_id, run_id)
    return run.tasks.get(task_name) if run else None


def _usable_upstream(record: TaskRecord) -> bool:
    return bool(record.upstream_id) and record.upstream_id != UNKNOWN_UPSTREAM


def _live(change, topology_id: str):  # type: ignore[no-untyped-def]
    """A store change that treats a stored DELETED topology as not found."""

    def guarded(details: TopologyDetails) -> TopologyDetails | None:
        if details.state is TopologyState.DELETED:
            raise NotFound(topology_id)
        return change(details)  # type: ignore[no-any-return]

    return guarded


def _publish_updated(ctx: Services, details: TopologyDetails) -> None:
    metadata = {
        Tag.NEW_STATE: details.state.value,
        Tag.NEW_TRIGGER: trigger_to_json(details.topology.trigger),
    }
    _publish(ctx, EventType.TOPOLOGY_UPDATED, details.id, metadata)


def _publish(
    ctx: Services, kind: EventType, topology_id: str, metadata: Mapping[Tag, object]
) -> None:
    event = EpochEvent(kind, ctx.clock.now_ms(), {Tag.TOPOLOGY_ID: topology_id, **metadata})
    ctx.bus.publish(event)
