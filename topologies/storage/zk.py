"""The ZooKeeper store: the cluster-wide truth, in the original Epoch's layout and JSON.

Invariants:
* every update is a versioned compare-and-set; a conflict re-reads and re-applies the change;
* a run is created with create-if-absent inside a transaction that also checks its topology still
  exists, so a deleted topology never gets an orphan run node;
* writes made for the leader (``fence`` returns the leader's election znode) are transactions that
  also check that znode, so a node that lost leadership cannot write;
* multi-znode changes (deleting a topology with its runs) are one transaction;
* a run this store wrote last is updated from its remembered copy and version, without a read;
  a stale copy fails its version check and the update falls back to read, change and write;
* connection loss is retried with kazoo's retry policy; what still fails raises ``StoreError``;
* every successful write is applied to this node's SQL mirror at once, so the node's next read
  sees it (``mirror=False`` skips that: for tools without a database, and for the scheduler,
  whose writes the node's ``ZkMirror`` applies in batches).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import ZnodeStat

from topologies.codec import (
    CodecError,
    details_from_json,
    details_to_json,
    run_from_json,
    run_to_json,
)
from topologies.domain import RunInfo, TopologyDetails
from topologies.storage import sql
from topologies.storage.base import (
    MAX_ATTEMPTS,
    AlreadyExists,
    NotFound,
    NotLeader,
    RunChange,
    Store,
    StoreError,
    TopologyChange,
)
from topologies.storage.paths import Paths

log = logging.getLogger(__name__)

MAX_NODE_BYTES = 1_000_000  # ZooKeeper's default jute.maxbuffer leaves room for this much data
DELETE_BATCH = 500
REMEMBERED_RUNS = 50_000
Fence = Callable[[], str | None]
Record = TypeVar("Record")


def encode(document: dict[str, Any]) -> bytes:
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_NODE_BYTES:
        raise StoreError(f"record of {len(data)} bytes exceeds the {MAX_NODE_BYTES}-byte limit")
    return data


def decode_details(data: bytes, path: str) -> TopologyDetails | None:
    return _decoded(details_from_json, data, path)


def decode_run(data: bytes, path: str) -> RunInfo | None:
    return _decoded(run_from_json, data, path)


def _decoded(reader: Callable[[Any], Record], data: bytes, path: str) -> Record | None:
    # A corrupt node is logged and read as absent: one bad record must not break a listing.
    try:
        return reader(json.loads(data.decode()))
    except (ValueError, CodecError) as error:
        log.warning("Unreadable record at %s ignored: %s", path, error)
        return None


class ZkStore(Store):
    def __init__(
        self,
        client: KazooClient,
        paths: Paths,
        fence: Fence | None = None,
        mirror: bool = True,
    ) -> None:
        self.client = client
        self.paths = paths
        self.fence = fence or (lambda: None)
        self.mirror = mirror
        self.written = WrittenRuns(REMEMBERED_RUNS)

    # --- topologies -----------------------------------------------------------------------------

    def create_topology(self, details: TopologyDetails) -> TopologyDetails:
        """Create the topology and its runs parent together, so its first run is one write."""
        path, data = self.paths.topology(details.id), encode(details_to_json(details))
        for parent in (self.paths.topologies, self.paths.runs):
            self._call(self.client.ensure_path, parent)
        ops: list[tuple[Any, ...]] = [("create", path, data)]
        runs_parent = self.paths.runs_of(details.id)
        if self._call(self.client.exists, runs_parent) is None:
            ops.append(("create", runs_parent, b""))
        try:
            self._commit(ops, fenced=False)
        except NodeExistsError as error:
            if not self._holds(path, data):
                raise AlreadyExists(details.id) from error
        self._mirror_topology(details, 0)
        return details

    def get_topology(self, topology_id: str) -> TopologyDetails | None:
        path = self.paths.topology(topology_id)
        found = self._read(path)
        return decode_details(found[0], path) if found else None

    def list_topologies(self) -> list[TopologyDetails]:
        found = self._read_children(self.paths.topologies)
        items = (decode_details(data, path) for path, data, _ in found)
        return sorted((item for item in items if item), key=lambda d: d.id)

    def update_topology(self, topology_id: str, change: TopologyChange) -> TopologyDetails:
        path = self.paths.topology(topology_id)
        for _ in range(MAX_ATTEMPTS):
            found = self._read(path)
            current = decode_details(found[0], path) if found else None
            if found is None or current is None:
                raise NotFound(topology_id)
            new = change(current)
            if new is None:
                return current
            try:
                stat = self._call(
                    self.client.set, path, encode(details_to_json(new)), found[1].version
                )
            except BadVersionError:
                continue
            self._mirror_topology(new, stat)
            return new
        raise StoreError(f"topology {topology_id} kept changing; update abandoned")

    def delete_topology(self, topology_id: str) -> bool:
        for _ in range(MAX_ATTEMPTS):
            try:
                deleted = self._delete_topology_tree(topology_id)
            except (NotEmptyError, NoNodeError, NodeExistsError, BadVersionError):
                continue  # runs appeared or went meanwhile: list again and retry
            if self.mirror:
                sql.unmirror_runs(topology_id)
                sql.unmirror_topology(topology_id)
            return deleted
        raise StoreError(f"runs of {topology_id} kept appearing; delete abandoned")

    def _delete_topology_tree(self, topology_id: str) -> bool:
        runs_path = self.paths.runs_of(topology_id)
        run_paths = [f"{runs_path}/{name}" for name in self._children(runs_path)]
        for chunk in _chunks(run_paths[DELETE_BATCH:], DELETE_BATCH):
            self._commit([("delete", p) for p in chunk], fenced=False)
        ops = [("delete", p) for p in run_paths[:DELETE_BATCH]]
        parents = (runs_path, self.paths.topology(topology_id))
        ops += [("delete", p) for p in parents if self._call(self.client.exists, p) is not None]
        if ops:
            self._commit(ops, fenced=False)
        return bool(ops) or bool(run_paths)

    # --- runs -----------------------------------------------------------------------------------

    def create_run(self, run: RunInfo) -> bool:
        created = self._create_one(run)
        if created and self.mirror:
            sql.mirror_new_runs([run])
        return created

    def _create_one(self, run: RunInfo) -> bool:
        path, data = self.paths.run(run.topology_id, run.run_id), encode(run_to_json(run))
        guard = ("check", self.paths.topology(run.topology_id))
        try:
            self._create_run_node(guard, path, data, run.topology_id)
        except NodeExistsError:
            # After a retried create the node may hold what this very call wrote.
            return self._holds(path, data)  # False: this fire or instant run id already happened
        self.written.remember(path, run, 0)
        return True

    def create_runs(self, runs: Sequence[RunInfo]) -> list[bool]:
        """Pipelined ``create_run``: one transaction per run, all in flight at once."""
        fence = self.fence()
        pending = [(run, self._create_async(run, fence)) for run in runs]
        answers = [self._created(run, result, fence) for run, result in pending]
        if self.mirror:
            sql.mirror_new_runs(
                [run for run, created in zip(runs, answers, strict=True) if created]
            )
        return answers

    def _create_async(self, run: RunInfo, fence: str | None) -> Any:
        transaction = self.client.transaction()
        if fence is not None:
            transaction.check(fence, -1)
        transaction.check(self.paths.topology(run.topology_id), -1)
        transaction.create(self.paths.run(run.topology_id, run.run_id), encode(run_to_json(run)))
        return transaction.commit_async()

    def _created(self, run: RunInfo, pending: Any, fence: str | None) -> bool:
        try:
            results = pending.get(timeout=30)
        except (KazooException, KazooTimeoutError):
            return self._create_one(run)  # connection trouble: the careful path re-checks
        if fence is not None and isinstance(results[0], NoNodeError):
            raise NotLeader(f"leadership lost: {fence} is gone")
        if not any(isinstance(result, Exception) for result in results):
            self.written.remember(self.paths.run(run.topology_id, run.run_id), run, 0)
            return True
        if isinstance(results[-1], NodeExistsError):
            return False
        return self._create_one(run)  # parent missing or topology gone: let the careful path say

    def _create_run_node(self, guard: tuple[str, str], path: str, data: bytes, tid: str) -> None:
        try:
            self._commit([guard, ("create", path, data)], fenced=True)
        except NoNodeError as error:
            if self._call(self.client.exists, guard[1]) is None:
                raise NotFound(tid) from error
            # The topology's runs parent does not exist yet: create both in one transaction.
            self._call(self.client.ensure_path, self.paths.runs)
            self._commit(
                [guard, ("create", self.paths.runs_of(tid), b""), ("create", path, data)],
                fenced=True,
            )

    def get_run(self, topology_id: str, run_id: str) -> RunInfo | None:
        path = self.paths.run(topology_id, run_id)
        found = self._read(path)
        return decode_run(found[0], path) if found else None

    def list_runs(self, topology_id: str) -> list[RunInfo]:
        found = self._read_children(self.paths.runs_of(topology_id))
        runs = (decode_run(data, path) for path, data, _ in found)
        return sorted((run for run in runs if run), key=lambda r: r.updated, reverse=True)

    def update_run(self, topology_id: str, run_id: str, change: RunChange) -> RunInfo:
        path = self.paths.run(topology_id, run_id)
        remembered = self.written.take(path)
        for _ in range(MAX_ATTEMPTS):
            current, version = remembered or self._read_run(path, topology_id, run_id)
            new = change(current)
            if new is None and remembered is None:
                return current
            remembered = None  # a retry, and a no-op judged on the remembered copy, read
            if new is None:
                continue
            op = ("set", path, encode(run_to_json(new)), version)
            try:
                (stat,) = self._commit([op], fenced=True)
            except (BadVersionError, NoNodeError):
                continue  # changed or removed since: the next round reads what is there
            self.written.remember(path, new, stat.version)
            self._mirror_run(new, stat)
            return new
        raise StoreError(f"run {topology_id}/{run_id} kept changing; update abandoned")

    def _read_run(self, path: str, topology_id: str, run_id: str) -> tuple[RunInfo, int]:
        found = self._read(path)
        current = decode_run(found[0], path) if found else None
        if found is None or current is None:
            raise NotFound(f"{topology_id}/{run_id}")
        return current, found[1].version

    def delete_runs(self, topology_id: str, run_ids: Iterable[str]) -> int:
        paths = [self.paths.run(topology_id, run_id) for run_id in run_ids]
        deleted = 0
        for chunk in _chunks(paths, DELETE_BATCH):
            present = [p for p in chunk if self._call(self.client.exists, p) is not None]
            try:
                self._commit([("delete", p) for p in present], fenced=True)
            except NoNodeError:
                present = [p for p in present if self._delete_if_present(p)]
            deleted += len(present)
        if self.mirror:
            sql.unmirror_runs(topology_id, [p.rsplit("/", 1)[1] for p in paths])
        return deleted

    def _delete_if_present(self, path: str) -> bool:
        try:
            self._commit([("delete", path)], fenced=True)
        except NoNodeError:
            return False
        return True

    # --- ZooKeeper plumbing ---------------------------------------------------------------------

    def _call(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one ZooKeeper call with kazoo's retry policy for connection loss."""
        try:
            return self.client.retry(operation, *args, **kwargs)
        except (NoNodeError, NodeExistsError, BadVersionError, NotEmptyError):
            raise
        except (KazooException, KazooTimeoutError) as error:
            raise StoreError(f"ZooKeeper is unavailable: {error!r}") from error

    def _commit(self, ops: Sequence[tuple[Any, ...]], fenced: bool) -> list[Any]:
        """Commit ops as one transaction (plus the leadership check when fenced)."""
        fence = self.fence() if fenced else None
        results = self._call(self._transaction, ops, fence)
        if fence is not None:
            if isinstance(results[0], NoNodeError):
                raise NotLeader(f"leadership lost: {fence} is gone")
            results = results[1:]
        for result in results:
            if isinstance(result, Exception) and not _is_rollback(result):
                raise result
        return list(results)

    def _transaction(self, ops: Sequence[tuple[Any, ...]], fence: str | None) -> list[Any]:
        # A transaction can be committed once, so every retry builds a new one.
        transaction = self.client.transaction()
        if fence is not None:
            transaction.check(fence, -1)
        for op in ops:
            _add(transaction, *op)
        return list(transaction.commit())

    def _read(self, path: str) -> tuple[bytes, ZnodeStat] | None:
        try:
            return self._call(self.client.get, path)  # type: ignore[no-any-return]
        except NoNodeError:
            return None

    def _children(self, path: str) -> list[str]:
        try:
            return list(self._call(self.client.get_children, path))
        except NoNodeError:
            return []

    def _read_children(self, parent: str) -> list[tuple[str, bytes, ZnodeStat]]:
        """Read every child of ``parent`` with pipelined requests."""
        paths = [f"{parent}/{name}" for name in self._children(parent)]
        pending = [(path, self.client.get_async(path)) for path in paths]
        found = []
        for path, result in pending:
            try:
                data, stat = result.get(timeout=30)
            except NoNodeError:
                continue  # deleted between the listing and the read
            except (KazooException, KazooTimeoutError) as error:
                raise StoreError(f"ZooKeeper is unavailable: {error!r}") from error
            found.append((path, data, stat))
        return found

    def _holds(self, path: str, data: bytes) -> bool:
        """After a retried create: does the node hold exactly what this call wrote?"""
        found = self._read(path)
        return found is not None and found[0] == data

    def _mirror_topology(self, details: TopologyDetails, stat: ZnodeStat | int | None) -> None:
        """Mirror at once; a version of 0 (just created, zxid unknown) yields to the watcher's."""
        if self.mirror and stat is not None:
            sql.mirror_topology(details, stat if isinstance(stat, int) else stat.mzxid)

    def _mirror_run(self, run: RunInfo, stat: ZnodeStat | None) -> None:
        if self.mirror and stat is not None:
            sql.mirror_run(run, stat.mzxid)


class WrittenRuns:
    """The runs this store wrote last, with their znode versions: a bounded, thread-safe map.

    Only unfinished runs are kept (a finished run is not written again), oldest dropped first.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._runs: OrderedDict[str, tuple[RunInfo, int]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, path: str, run: RunInfo, version: int) -> None:
        with self._lock:
            if run.state.is_terminal:
                self._runs.pop(path, None)
                return
            self._runs[path] = (run, version)
            self._runs.move_to_end(path)
            while len(self._runs) > self.capacity:
                self._runs.popitem(last=False)

    def take(self, path: str) -> tuple[RunInfo, int] | None:
        with self._lock:
            return self._runs.pop(path, None)

    def __len__(self) -> int:
        return len(self._runs)


def _add(transaction: Any, kind: str, path: str, *args: Any) -> None:
    if kind == "check":
        transaction.check(path, -1)  # -1: any version, but the node must exist
    elif kind == "create":
        transaction.create(path, *args)
    elif kind == "set":
        transaction.set_data(path, *args)
    else:
        transaction.delete(path)


def _is_rollback(result: Exception) -> bool:
    return type(result).__name__ in ("RolledBackError", "RuntimeInconsistency")


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[start : start + size] for start in range(0, len(items), size))
