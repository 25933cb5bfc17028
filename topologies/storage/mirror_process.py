"""The node's ``ZkMirror`` in a child process of its own.

CPython runs one thread at a time per process. On a leader firing hundreds of runs a second the
mirror (reading every changed znode, writing SQL) took a fifth of the scheduler process's one
core; in a child it has its own interpreter, its own ZooKeeper session and the machine's other
core. The parent learns two things: whether the mirror is in step with ZooKeeper (``in_sync``,
which a new leader waits for) and whether it still runs (``alive``).

Invariants:
* the child is started with ``spawn``: it builds its own Django settings (from the same
  environment) and kazoo client, sharing nothing with the parent but a flag and a pipe;
* nothing the parent does waits on the child: a child killed at any instant cannot hang the
  parent. (multiprocessing's ``Event.set`` waits for every sleeper to wake, so a child killed
  while waiting on one blocked the parent's stop for good.) The flag is a lock-free shared
  byte; the stop request is the parent closing its end of the pipe;
* the child stops when its end of the pipe reads end-of-file: the parent asked, or died;
* ``in_sync`` is False from the start until the child's first full resynchronisation, whenever
  a new one is due (reconnection, lost session), and once the child has stopped.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
from multiprocessing.connection import Connection

from epoch_site.config import ZooKeeperConfig

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.1
STOP_TIMEOUT_S = 15.0


class MirrorProcess:
    def __init__(self, config: ZooKeeperConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self._synced = context.RawValue(ctypes.c_bool, False)
        self._stop_reader, self._stop_writer = context.Pipe(duplex=False)
        self._process = context.Process(
            target=serve_mirror,
            args=(config, self._synced, self._stop_reader),
            name="epoch-mirror",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()
        self._stop_reader.close()  # the child has its own copy

    def alive(self) -> bool:
        return self._process.is_alive()

    def in_sync(self) -> bool:
        return bool(self._synced.value) and self.alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def exit_code(self) -> int | None:
        return self._process.exitcode

    def stop(self) -> None:
        self._stop_writer.close()  # end-of-file in the child: stop
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():
            log.warning("Mirror process did not stop in %.0f s; terminating it", STOP_TIMEOUT_S)
            self._process.terminate()
            self._process.join(STOP_TIMEOUT_S)


def serve_mirror(config: ZooKeeperConfig, synced: ctypes.c_bool, stop_reader: Connection) -> None:
    """The child: keep this node's SQL mirror in step until the parent closes the pipe."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epoch_site.settings")
    import django

    django.setup()
    from topologies.storage.connection import started_client
    from topologies.storage.mirror import ZkMirror
    from topologies.storage.paths import Paths

    client = started_client(config, timeout_s=30)
    mirror = ZkMirror(client, Paths(config.namespace))
    mirror.start()
    try:
        # poll() turns true on end-of-file; the parent never writes.
        while not stop_reader.poll(REPORT_INTERVAL_S):
            synced.value = mirror.in_sync()
    finally:
        synced.value = False
        mirror.stop()
        client.stop()
        client.close()
