"""Health of the store as the node sees it: the local database and, in cluster mode, ZooKeeper."""

from __future__ import annotations

from django.db import connection
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from epoch_site.config import ZooKeeperConfig
from topologies.storage.connection import shared_client

ZK_UNHEALTHY = "ZK connection is not in healthy state"


def database_problem() -> str | None:
    """None when the local database answers a query, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy, reported as text
        return f"Database is not reachable: {error}"
    return None


def zookeeper_problem(config: ZooKeeperConfig) -> str | None:
    """None when the client is connected and the namespace root exists, else the reason."""
    try:
        client = shared_client(config)
        if not client.connected or client.exists(f"/{config.namespace}") is None:
            return ZK_UNHEALTHY
    except (KazooException, KazooTimeoutError, OSError):
        return ZK_UNHEALTHY
    return None
