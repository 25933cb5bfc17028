"""The store for this node: ZooKeeper in cluster mode, SQL alone in embedded mode."""

from __future__ import annotations

from django.conf import settings
from kazoo.client import KazooClient

from topologies.storage.base import Store
from topologies.storage.connection import shared_client
from topologies.storage.embedded import SqlStore
from topologies.storage.paths import Paths
from topologies.storage.zk import Fence, ZkStore


def node_store(fence: Fence | None = None) -> Store:
    """The store this process writes through; ``fence`` guards the leader's writes."""
    config = settings.EPOCH
    if config.embedded:
        return SqlStore()
    client = shared_client(config.zookeeper)
    return ZkStore(client, Paths(config.zookeeper.namespace), fence=fence)


def scheduler_store(client: KazooClient, paths: Paths, fence: Fence) -> ZkStore:
    """The leader's store: fenced by its election node, mirrored only by the node's ``ZkMirror``.

    The scheduler writes several times per run. Mirroring each write at once from every worker
    thread made them queue for SQLite's single writer lock, which capped a node at a few dozen
    runs a second; the mirror thread applies the same changes in batches a moment later, and the
    engine reads back nothing it wrote (it keeps its runs in memory).
    """
    return ZkStore(client, paths, fence=fence, mirror=False)
