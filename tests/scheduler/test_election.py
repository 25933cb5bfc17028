"""The election against a real ZooKeeper: order, failover, suspension and session loss."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from kazoo.client import KazooClient

from scheduler.election import LeaderElection, current_leader
from tests.support.zookeeper import ZooKeeperServer
from topologies.storage.paths import Paths

PATHS = Paths()


def eventually(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def clients(zk_connection_string: str) -> Iterator[Callable[[], KazooClient]]:
    started: list[KazooClient] = []

    def new_client() -> KazooClient:
        client = KazooClient(
            hosts=zk_connection_string,
            timeout=2,
            connection_retry={"max_tries": -1, "max_delay": 1},
        )
        client.start(timeout=10)
        started.append(client)
        return client

    yield new_client
    for client in started:
        client.stop()
        client.close()


def test_first_node_leads_and_publishes_its_url(clients: Callable[[], KazooClient]) -> None:
    client = clients()
    election = LeaderElection(client, PATHS, "http://node-a:8080")
    election.start()
    eventually(lambda: election.is_leader)
    (child,) = client.get_children("/epoch/leader-selection")
    assert re.fullmatch(r"_c_[0-9a-f-]{36}-lock-\d{10}", child)
    assert client.get(f"/epoch/leader-selection/{child}")[0] == b"http://node-a:8080"
    assert current_leader(clients(), PATHS) == "http://node-a:8080"
    assert election.fence_path() == f"/epoch/leader-selection/{child}"


def test_second_node_follows_then_leads_when_the_first_leaves(
    clients: Callable[[], KazooClient],
) -> None:
    first = LeaderElection(clients(), PATHS, "http://node-a:8080")
    first.start()
    eventually(lambda: first.is_leader)
    second = LeaderElection(clients(), PATHS, "http://node-b:9000")
    second.start()
    time.sleep(0.3)
    assert not second.is_leader
    assert second.fence_path() is None
    first.stop()
    eventually(lambda: second.is_leader, timeout_s=5)
    assert current_leader(clients(), PATHS) == "http://node-b:9000"


def test_no_leader_when_nobody_takes_part(clients: Callable[[], KazooClient]) -> None:
    assert current_leader(clients(), PATHS) is None


def test_lost_session_hands_leadership_over_and_rejoins_as_follower(
    clients: Callable[[], KazooClient], zk_connection_string: str
) -> None:
    leader_client = clients()
    changes: list[bool] = []
    first = LeaderElection(leader_client, PATHS, "http://node-a:8080", on_change=changes.append)
    first.start()
    eventually(lambda: first.is_leader)
    second = LeaderElection(clients(), PATHS, "http://node-b:9000")
    second.start()
    session_id, password = leader_client.client_id
    thief = KazooClient(hosts=zk_connection_string, client_id=(session_id, password))
    thief.start(timeout=10)
    thief.stop()
    thief.close()
    eventually(lambda: second.is_leader)
    observer = clients()
    eventually(lambda: len(observer.get_children("/epoch/leader-selection")) == 2)
    assert not first.is_leader
    assert changes[:2] == [True, False]
    assert current_leader(clients(), PATHS) == "http://node-b:9000"


def test_suspension_stops_leading_at_once(
    clients: Callable[[], KazooClient], zookeeper: ZooKeeperServer
) -> None:
    election = LeaderElection(clients(), PATHS, "http://node-a:8080")
    election.start()
    eventually(lambda: election.is_leader)
    zookeeper.stop()
    try:
        eventually(lambda: not election.is_leader, timeout_s=5)
        assert election.fence_path() is None
    finally:
        zookeeper.start()
    eventually(lambda: election.is_leader, timeout_s=30)
