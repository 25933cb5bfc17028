"""One started kazoo client per process, for the configured ZooKeeper ensemble.

The client is created lazily (after gunicorn forks its workers) and shared by every thread of the
process. Paths below the namespace are built in ``paths.py``; nothing outside ``topologies/storage``
and the scheduler's election touches kazoo.
"""

from __future__ import annotations

import logging
import select
import threading
from typing import Any

from kazoo.client import KazooClient
from kazoo.handlers.threading import SequentialThreadingHandler
from kazoo.handlers.utils import fileobj_to_fd
from kazoo.retry import KazooRetry

from epoch_site.config import ZooKeeperConfig

log = logging.getLogger(__name__)

_lock = threading.Lock()
_client: KazooClient | None = None
CONNECT_TIMEOUT_S = 15.0


class PollHandler(SequentialThreadingHandler):  # type: ignore[misc]
    """kazoo's threading handler, waiting on its sockets with poll(2).

    The stock handler builds and closes an epoll selector for every wait of the connection loop
    (three system calls each); on a busy leader that loop waits thousands of times a second.
    A poll object costs no system call to build, and poll, like epoll, has no fd-number limit.
    """

    def select(
        self, rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
    ) -> tuple[list[Any], list[Any], list[Any]]:
        poller = select.poll()
        wanted: dict[int, int] = {}
        for objects, mask in ((rlist, select.POLLIN), (wlist, select.POLLOUT)):
            for fileobj in objects:
                fd = fileobj_to_fd(fileobj)
                wanted[fd] = wanted.get(fd, 0) | mask
        for fd, mask in wanted.items():
            poller.register(fd, mask)
        ready = dict(poller.poll(None if timeout is None else timeout * 1000))
        readable = select.POLLIN | select.POLLHUP | select.POLLERR
        return (
            [f for f in rlist if ready.get(fileobj_to_fd(f), 0) & readable],
            [
                f
                for f in wlist
                if ready.get(fileobj_to_fd(f), 0) & (select.POLLOUT | select.POLLERR)
            ],
            [],
        )


def new_client(config: ZooKeeperConfig) -> KazooClient:
    """A kazoo client with Epoch's retry policy; the caller starts and stops it."""
    retry = {"max_tries": 5, "delay": 0.1, "backoff": 2, "max_delay": 2.0}
    return KazooClient(
        hosts=config.connection_string,
        handler=PollHandler(),
        timeout=config.session_timeout.seconds,
        connection_retry={**retry, "max_tries": -1},
        command_retry=retry,
    )


def started_client(config: ZooKeeperConfig, timeout_s: float = CONNECT_TIMEOUT_S) -> KazooClient:
    """A new client, connected, with the namespace root in place (health checks look for it);
    raises kazoo's timeout error if ZooKeeper is unreachable."""
    client = new_client(config)
    try:
        client.start(timeout=timeout_s)
        client.ensure_path(f"/{config.namespace}")
    except Exception:
        client.stop()
        client.close()
        raise
    return client


def shared_client(config: ZooKeeperConfig) -> KazooClient:
    """The process-wide started client."""
    global _client
    with _lock:
        if _client is None:
            _client = started_client(config)
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
