"""Keeps this node's SQL mirror in step with ZooKeeper.

One worker thread applies changes; kazoo's watch callbacks only enqueue the path that changed.
Child watches on ``topologies``, ``runs`` and every ``runs/<topologyId>`` reveal new and removed
records; a data watch on every record reveals its updates. Each record read re-arms its watch, and
records are written to SQL only when their version (ZooKeeper's modification zxid) is newer.

A full resynchronisation (read everything, apply what differs, remove what ZooKeeper no longer
has) runs at start, after every reconnection and after a session loss, when ZooKeeper may have
dropped the watches or events may have been missed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import close_old_connections, transaction
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState, WatchedEvent, ZnodeStat

from topologies import models
from topologies.domain import RunInfo
from topologies.storage import sql
from topologies.storage.paths import Paths
from topologies.storage.zk import decode_details, decode_run

log = logging.getLogger(__name__)

RESYNC = "<resync>"
BATCH = 500
GATHER_S = 0.2
READ_TIMEOUT_S = 30.0


@dataclass
class SyncReport:
    """What a resynchronisation changed in the SQL mirror."""

    topologies_added: int = 0
    topologies_updated: int = 0
    topologies_removed: int = 0
    runs_added: int = 0
    runs_updated: int = 0
    runs_removed: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.topologies_added, self.topologies_updated, self.topologies_removed)
        return any(counts) or any((self.runs_added, self.runs_updated, self.runs_removed))


class ZkMirror:
    def __init__(self, client: KazooClient, paths: Paths, watch: bool = True) -> None:
        self.client = client
        self.paths = paths
        self.watch = watch
        self._queue: queue.Queue[str] = queue.Queue()
        self._children: dict[str, set[str]] = {}
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_state: str | None = None
        self._synced = threading.Event()
        self._resyncs_requested = 0

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.client.add_listener(self._on_state)
        self.request_resync()
        self._thread = threading.Thread(target=self._run, name="zk-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.client.remove_listener(self._on_state)
        self._stopping.set()
        self._queue.put(RESYNC)  # wakes the worker
        if self._thread is not None:
            self._thread.join(timeout=10)

    def in_sync(self) -> bool:
        """True once a full resynchronisation finished since the last one was due (start,
        reconnection, an error): the mirror then lacks at most what its watches bring next."""
        return self._synced.is_set()

    def wait_until_idle(self, timeout_s: float = 10.0) -> bool:
        """True once every queued change has been applied (for tests and benchmarks)."""
        return self._idle.wait(timeout_s)

    def _on_state(self, state: str) -> None:
        # Watches may have fired unseen while disconnected, and a new session has none at all.
        if state == KazooState.CONNECTED and self._last_state in (
            KazooState.SUSPENDED,
            KazooState.LOST,
        ):
            self.request_resync()
        self._last_state = state

    def _on_event(self, event: WatchedEvent) -> None:
        if event.path:  # None for the session events kazoo sends when it drops all watches
            self._enqueue(event.path)

    def request_resync(self) -> None:
        """Have the worker read everything again; ``in_sync`` is False until it has."""
        self._synced.clear()
        self._resyncs_requested += 1
        self._enqueue(RESYNC)

    def _enqueue(self, item: str) -> None:
        self._idle.clear()
        self._queue.put(item)

    # --- worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if self._stopping.is_set():
                break
            try:
                self._apply(batch)
            except (KazooException, KazooTimeoutError) as error:
                log.warning("Mirror update failed (%r); resynchronising when connected", error)
                self._stopping.wait(1.0)
                self.request_resync()
            except Exception:
                log.exception("Mirror update failed; resynchronising")
                self._stopping.wait(1.0)
                self.request_resync()
            finally:
                close_old_connections()
            if self._queue.empty():
                self._idle.set()

    def _next_batch(self) -> list[str]:
        batch = [self._queue.get()]
        # A short pause lets a burst of changes gather: a node changed several times meanwhile
        # is read (and written to SQL) once, and its watch fires once until it is read again.
        self._stopping.wait(GATHER_S)
        while len(batch) < BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return list(dict.fromkeys(batch))

    def _apply(self, batch: list[str]) -> None:
        if RESYNC in batch:
            requested = self._resyncs_requested
            report = self.resync()
            if report.changed:
                log.info("Mirror resynchronised: %s", report)
            if requested == self._resyncs_requested:  # none was asked for meanwhile
                self._synced.set()
            return
        parents = [path for path in batch if self._is_parent(path)]
        records = [path for path in batch if not self._is_parent(path)]
        records += self._refresh_children(parents)
        self._apply_records(list(dict.fromkeys(records)), SyncReport())

    # --- reading ZooKeeper ------------------------------------------------------------------

    def _is_parent(self, path: str) -> bool:
        if path in (self.paths.topologies, self.paths.runs):
            return True
        return (
            path.startswith(f"{self.paths.runs}/")
            and path.count("/") == self.paths.runs.count("/") + 1
        )

    def _list(self, parent: str) -> list[str] | None:
        """Children of ``parent``, or None while it does not exist (its creation is watched)."""
        watcher = self._on_event if self.watch else None
        for _ in range(3):
            try:
                return list(self.client.retry(self.client.get_children, parent, watch=watcher))
            except NoNodeError:
                # A child watch needs the node; an exists watch fires when it is created.
                if self.client.retry(self.client.exists, parent, watch=watcher) is None:
                    return None
        return None

    def _refresh_children(self, parents: list[str]) -> list[str]:
        """Re-list ``parents`` all at once; returns new record paths to read, applies removals."""
        watcher = self._on_event if self.watch else None
        pending = [(p, self.client.get_children_async(p, watch=watcher)) for p in parents]
        records = []
        for parent, result in pending:
            try:
                names: list[str] | None = list(result.get(timeout=READ_TIMEOUT_S))
            except NoNodeError:
                names = self._list(parent)  # gone, or not yet there: watch for its creation
            records += self._diff_children(parent, set(names or []))
        return records

    def _diff_children(self, parent: str, current: set[str]) -> list[str]:
        known = self._children.get(parent, set())
        self._children[parent] = current
        self._remove(parent, known - current)
        if parent == self.paths.runs:
            for topology_id in current - known:
                self._enqueue(self.paths.runs_of(topology_id))
            return []
        return [f"{parent}/{name}" for name in sorted(current - known)]

    def _remove(self, parent: str, names: Iterable[str]) -> None:
        for name in names:
            if parent == self.paths.topologies:
                sql.unmirror_topology(name)
            elif parent == self.paths.runs:
                self._children.pop(self.paths.runs_of(name), None)
                sql.unmirror_runs(name)
            else:
                sql.unmirror_run(parent.rsplit("/", 1)[1], name)

    def _read_all(self, paths: list[str]) -> list[tuple[str, bytes | None, ZnodeStat | None]]:
        """Read records with pipelined requests, re-arming each one's data watch."""
        watcher = self._on_event if self.watch else None
        pending = [(path, self.client.get_async(path, watch=watcher)) for path in paths]
        results: list[tuple[str, bytes | None, ZnodeStat | None]] = []
        for path, result in pending:
            try:
                data, stat = result.get(timeout=READ_TIMEOUT_S)
            except NoNodeError:
                data, stat = None, None
            results.append((path, data, stat))
        return results

    # --- applying to SQL --------------------------------------------------------------------

    def _apply_records(
        self, paths: list[str], report: SyncReport, mirrored: dict[str, int] | None = None
    ) -> list[str]:
        """Apply the records at ``paths``; returns the paths whose mirror row changed.

        ``mirrored`` (path to version, when known) spares decoding records the mirror already
        holds at their current version: most of them, when a node restarts.
        """
        changed = []
        for start in range(0, len(paths), BATCH):
            found = self._read_all(paths[start : start + BATCH])
            if mirrored:
                found = [item for item in found if not _mirrored_as_is(item, mirrored)]
            with transaction.atomic():
                changed += self._apply_batch(found, report)
        return changed

    def _apply_batch(
        self, found: list[tuple[str, bytes | None, ZnodeStat | None]], report: SyncReport
    ) -> list[str]:
        changed, runs = [], []
        for path, data, stat in found:
            parent, name = path.rsplit("/", 1)
            if data is None or stat is None:
                self._remove(parent, [name])
                continue
            record = (
                decode_details(data, path)
                if parent == self.paths.topologies
                else decode_run(data, path)
            )
            if record is None:
                report.unreadable.append(path)
            elif isinstance(record, RunInfo):
                runs.append((path, record, stat.mzxid))
            elif sql.mirror_topology(record, stat.mzxid):
                changed.append(path)
        flags = sql.mirror_runs([(run, version) for _, run, version in runs])
        return changed + [path for (path, _, _), flag in zip(runs, flags, strict=True) if flag]

    # --- full resynchronisation ----------------------------------------------------------------

    def resync(self) -> SyncReport:
        """Make the SQL mirror equal to ZooKeeper; returns what changed."""
        report = SyncReport()
        before = mirrored_versions(self.paths)
        topology_ids = self._list(self.paths.topologies) or []
        self._children[self.paths.topologies] = set(topology_ids)
        wanted = [self.paths.topology(tid) for tid in topology_ids] + self._all_run_paths()
        for path in self._apply_records(wanted, report, before):
            kind = "topologies" if path.startswith(f"{self.paths.topologies}/") else "runs"
            action = "updated" if path in before else "added"
            setattr(report, f"{kind}_{action}", getattr(report, f"{kind}_{action}") + 1)
        self._remove_missing(before, set(wanted), report)
        return report

    def _all_run_paths(self) -> list[str]:
        topology_ids = self._list(self.paths.runs) or []
        self._children[self.paths.runs] = set(topology_ids)
        watcher = self._on_event if self.watch else None
        parents = [self.paths.runs_of(tid) for tid in topology_ids]
        pending = [(p, self.client.get_children_async(p, watch=watcher)) for p in parents]
        paths = []
        for parent, result in pending:
            try:
                names = set(result.get(timeout=READ_TIMEOUT_S))
            except NoNodeError:
                names = set()
            self._children[parent] = names
            paths += [f"{parent}/{name}" for name in sorted(names)]
        return paths

    def _remove_missing(self, before: dict[str, int], wanted: set[str], report: SyncReport) -> None:
        with transaction.atomic():
            for path in (p for p in before if p not in wanted):
                parent, name = path.rsplit("/", 1)
                self._remove(parent, [name])
                if parent == self.paths.topologies:
                    report.topologies_removed += 1
                else:
                    report.runs_removed += 1


def _mirrored_as_is(
    item: tuple[str, bytes | None, ZnodeStat | None], mirrored: dict[str, int]
) -> bool:
    path, _, stat = item
    return stat is not None and mirrored.get(path) == stat.mzxid


def mirrored_versions(paths: Paths) -> dict[str, int]:
    """Everything in the SQL mirror, keyed by its ZooKeeper path, with its version."""
    rows = models.Topology.objects.values_list("id", "version")
    versions = {paths.topology(topology_id): version for topology_id, version in rows}
    run_rows = models.TopologyRun.objects.values_list("topology_id", "run_id", "version")
    versions.update({paths.run(tid, rid): version for tid, rid, version in run_rows})
    return versions
