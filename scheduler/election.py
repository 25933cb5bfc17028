"""Leader election in ZooKeeper, compatible with the original Epoch (epoch-model.md §16.5).

Each node creates an ephemeral-sequential child ``_c_<uuid>-lock-<sequence>`` of
``/<namespace>/leader-selection`` holding its participant id (its advertised URL). Children are
ordered by the sequence after the last ``lock-``; the first is the leader. A follower watches only
its predecessor, so a departure wakes one node, not all.

Invariants:
* ``is_leader`` turns False the moment the connection is suspended: another node can only take
  over once this node's session has expired, which is later, so two nodes never both act as leader;
* a session that survives a suspension re-checks its place and may lead again; a lost session
  rejoins with a new child when the connection returns;
* ``fence_path()`` is the child this node leads with; the store checks it in every leader write.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState, WatchedEvent

from topologies.storage.paths import Paths

log = logging.getLogger(__name__)

LOCK_MARKER = "lock-"


def _sequence(name: str) -> str:
    return name.rsplit(LOCK_MARKER, 1)[-1]


def contenders(client: KazooClient, paths: Paths) -> list[str]:
    """Children of the election path, leader first."""
    try:
        names = client.get_children(paths.leader_selection)
    except NoNodeError:
        return []
    return sorted((n for n in names if LOCK_MARKER in n), key=_sequence)


def current_leader(client: KazooClient, paths: Paths) -> str | None:
    """The leader's participant id (its URL), or None while there is no leader."""
    for name in contenders(client, paths):
        try:
            data, _ = client.get(f"{paths.leader_selection}/{name}")
        except NoNodeError:
            continue  # it left between the listing and the read: the next one leads
        return data.decode() or None
    return None


class LeaderElection:
    def __init__(
        self,
        client: KazooClient,
        paths: Paths,
        participant_id: str,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.client = client
        self.paths = paths
        self.participant_id = participant_id
        self.on_change = on_change or (lambda leading: None)
        self._node: str | None = None
        self._leading = False
        self._lock = threading.RLock()
        self._stopped = False

    @property
    def is_leader(self) -> bool:
        return self._leading

    def fence_path(self) -> str | None:
        """The election child this node leads with, or None when it does not lead."""
        return self._node if self._leading else None

    def start(self) -> None:
        self.client.add_listener(self._on_state)
        self._join()

    def stop(self) -> None:
        """Leave the election at once, so that another node can lead without waiting."""
        with self._lock:
            self._stopped = True
            self._set_leading(False)
            node, self._node = self._node, None
        self.client.remove_listener(self._on_state)
        if node is not None:
            try:
                self.client.delete(node)
            except (NoNodeError, KazooException, KazooTimeoutError):
                log.warning("Could not remove election node %s; it expires with the session", node)

    def _join(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._node is None or self.client.exists(self._node) is None:
                prefix = f"{self.paths.leader_selection}/_c_{uuid.uuid4()}-{LOCK_MARKER}"
                self._node = self.client.create(
                    prefix,
                    self.participant_id.encode(),
                    ephemeral=True,
                    sequence=True,
                    makepath=True,
                )
                log.info("Joined the leader election as %s", self._node)
        self._check()

    def _check(self, event: WatchedEvent | None = None) -> None:
        with self._lock:
            if self._stopped or self._node is None:
                return
            names = contenders(self.client, self.paths)
            mine = self._node.rsplit("/", 1)[1]
            if mine not in names:
                self._set_leading(False)
                self._node = None
                self.client.handler.spawn(self._rejoin)
                return
            position = names.index(mine)
            if position == 0:
                self._set_leading(True)
                return
            self._set_leading(False)
            predecessor = f"{self.paths.leader_selection}/{names[position - 1]}"
            if self.client.exists(predecessor, watch=self._check) is None:
                self.client.handler.spawn(self._check)  # it left just now: look again

    def _rejoin(self) -> None:
        try:
            self._join()
        except (KazooException, KazooTimeoutError) as error:
            log.warning("Could not rejoin the leader election yet: %r", error)

    def _on_state(self, state: str) -> None:
        # Runs on kazoo's connection thread: only flags here; ZooKeeper calls go to a worker.
        if state in (KazooState.SUSPENDED, KazooState.LOST):
            self._set_leading(False)
            if state == KazooState.LOST:
                self._node = None
        elif state == KazooState.CONNECTED and not self._stopped:
            self.client.handler.spawn(self._rejoin)

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        log.info("%s leadership", "Acquired" if leading else "Gave up")
        self.on_change(leading)


class LeaderLookup:
    """The current leader's URL for request routing, re-read at most every ``ttl_s`` seconds."""

    def __init__(self, client: KazooClient, paths: Paths, ttl_s: float = 0.5) -> None:
        self.client = client
        self.paths = paths
        self.ttl_s = ttl_s
        self._cached: tuple[float, str | None] | None = None
        self._lock = threading.Lock()

    def leader(self) -> str | None:
        """The leader's URL; None when there is none or ZooKeeper cannot tell."""
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and now - self._cached[0] < self.ttl_s:
                return self._cached[1]
        try:
            url = current_leader(self.client, self.paths) if self.client.connected else None
        except (KazooException, KazooTimeoutError):
            url = None
        with self._lock:
            self._cached = (now, url)
        return url
