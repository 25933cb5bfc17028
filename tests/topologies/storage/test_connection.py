"""The process's kazoo client: Epoch's poll-based handler and retry policy, on a real ZooKeeper."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from epoch_site.config import ZooKeeperConfig
from topologies.storage.connection import PollHandler, new_client


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


def test_select_reports_readable_and_writable_sockets(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    handler = PollHandler()
    assert handler.select([left], [], [], 0.01) == ([], [], [])
    right.send(b"x")
    readable, writable, _ = handler.select([left, right], [left], [], 1.0)
    assert readable == [left]
    assert writable == [left]


def test_select_sees_a_closed_peer_as_readable(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    right.close()
    assert PollHandler().select([left], [], [], 1.0)[0] == [left]


def test_a_client_with_the_handler_talks_to_zookeeper(zk_connection_string: str) -> None:
    client = new_client(ZooKeeperConfig(connection_string=zk_connection_string))
    client.start(timeout=10)
    try:
        assert isinstance(client.handler, PollHandler)
        client.create("/probe", b"data", makepath=True)
        assert client.get("/probe")[0] == b"data"
    finally:
        client.stop()
        client.close()
