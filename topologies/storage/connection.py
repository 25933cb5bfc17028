"""One started kazoo client per process, for the configured ZooKeeper ensemble.

The client is created lazily (after gunicorn forks its workers) and shared by every thread of the
process. Paths below the namespace are built in ``paths.py``; nothing outside ``topologies/storage``
and the scheduler's election touches kazoo.
"""

from __future__ import annotations

import logging
import threading

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from epoch_site.config import ZooKeeperConfig

log = logging.getLogger(__name__)

_lock = threading.Lock()
_client: KazooClient | None = None
CONNECT_TIMEOUT_S = 15.0


def new_client(config: ZooKeeperConfig) -> KazooClient:
    """A kazoo client with Epoch's retry policy; the caller starts and stops it."""
    retry = {"max_tries": 5, "delay": 0.1, "backoff": 2, "max_delay": 2.0}
    return KazooClient(
        hosts=config.connection_string,
        timeout=config.session_timeout.seconds,
        connection_retry={**retry, "max_tries": -1},
        command_retry=retry,
    )


def shared_client(config: ZooKeeperConfig) -> KazooClient:
    """The process-wide started client; raises kazoo's timeout error if ZooKeeper is unreachable."""
    global _client
    with _lock:
        if _client is None:
            client = new_client(config)
            try:
                client.start(timeout=CONNECT_TIMEOUT_S)
                # The namespace root exists from start-up on; health checks look for it.
                client.ensure_path(f"/{config.namespace}")
            except Exception:
                client.stop()
                client.close()
                raise
            _client = client
        return _client


def close_shared_client() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.stop()
            _client.close()
            _client = None


def command_retry() -> KazooRetry:
    return KazooRetry(max_tries=5, delay=0.1, backoff=2, max_delay=2.0)
