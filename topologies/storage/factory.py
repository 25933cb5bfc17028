"""The store for this node: ZooKeeper in cluster mode, SQL alone in embedded mode."""

from __future__ import annotations

from django.conf import settings

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
