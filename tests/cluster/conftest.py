"""Three Epoch nodes as real processes sharing one ZooKeeper chroot and one Drove simulator."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests
from kazoo.client import KazooClient

from drove_client.simulator import DroveSimulator, SimSettings
from epoch_site.config import BASE_DIR
from tests.support.nodes import NodeProcess
from tests.support.zookeeper import ZooKeeperServer

ADMIN = ("admin", "admin")
SECRET_KEY = "cluster-test-secret-key-" + "x" * 40
LEADER_PATH = "/apis/housekeeping/v1/leader"
START_TIMEOUT_S = 60.0
# A short ZooKeeper session, so that a killed leader's election node expires quickly.
SESSION_TIMEOUT = "3s"
ZK_LINE = "  connectionString: ${ZK_CONNECTION_STRING:-}\n"
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout_s: float = 15.0, interval_s: float = 0.2) -> T:
    """Polls ``probe`` until it returns something truthy; fails with the last value otherwise."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        try:
            last = probe()
        except requests.RequestException as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s} s; last value: {last!r}")
        time.sleep(interval_s)


class Node(NodeProcess):
    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        def healthy() -> bool:
            assert self.alive, f"{self.name} exited during start-up: {self.log_tail()}"
            try:
                return requests.get(f"{self.admin_url}/healthcheck", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(healthy, timeout_s, 0.3)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Kills the launcher and, for SIGKILL, every child it started."""
        if self.process is None:
            return
        if self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.send_signal(sig)

    def reap(self) -> None:
        """Makes sure nothing of this node is left running."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.request(method, self.url + path, **kwargs)


@dataclass
class Cluster:
    nodes: list[Node]
    simulator: DroveSimulator
    zk: KazooClient

    @property
    def live(self) -> list[Node]:
        return [node for node in self.nodes if node.alive]

    def leader_urls(self) -> dict[str, str]:
        """Each live node's answer to the housekeeping leader endpoint."""
        answers = {}
        for node in self.live:
            response = node.get(LEADER_PATH, auth=ADMIN, timeout=2)
            answers[node.url] = response.json().get("leader") if response.ok else None
        return answers

    def agreed_leader(self, timeout_s: float = 20.0) -> Node:
        """The node every live node names as leader, once they agree on a live node."""

        def agreed() -> Node | None:
            answers = set(self.leader_urls().values())
            if len(answers) != 1:
                return None
            url = answers.pop()
            return next((n for n in self.live if n.url == url), None)

        return wait_for(agreed, timeout_s)

    def followers(self, leader: Node) -> list[Node]:
        return [node for node in self.live if node is not leader]

    def restore(self) -> None:
        """Restarts every node that a previous test stopped, so each test sees three nodes."""
        dead = [node for node in self.nodes if not node.alive]
        for node in dead:
            node.reap()
            node.start()
        for node in dead:
            node.wait_healthy()


@pytest.fixture(scope="module")
def cluster(
    zookeeper: ZooKeeperServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if zookeeper.process is None:
        zookeeper.start()
    chroot = f"/cluster-{uuid.uuid4().hex[:12]}"
    zk = KazooClient(hosts=zookeeper.address)
    zk.start(timeout=10)
    zk.create(chroot)
    simulator = DroveSimulator(SimSettings(step_s=0.05, run_s=0.2)).start()
    workdir = tmp_path_factory.mktemp("cluster")
    config = workdir / "epoch.yml"
    config.write_text(
        (BASE_DIR / "epoch_site" / "default_config.yml")
        .read_text()
        .replace(ZK_LINE, f"{ZK_LINE}  sessionTimeout: {SESSION_TIMEOUT}\n")
    )
    common = {
        "CONFIG_FILE_PATH": str(config),
        "ZK_CONNECTION_STRING": f"{zookeeper.address}{chroot}",
        "EPOCH_SECRET_KEY": SECRET_KEY,
        "DROVE_ENDPOINT": simulator.url,
        "DROVE_APP_NAME": "epoch-test",
        "EPOCH_BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "EPOCH_TASK_POLL_INTERVAL": "200ms",
        "EPOCH_DROVE_RETRY_INTERVAL": "200ms",
    }
    nodes = [Node(f"node{i}", workdir / f"node{i}", dict(common)) for i in range(3)]
    cluster = Cluster(nodes, simulator, zk)
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_healthy()
        yield cluster
    finally:
        for node in nodes:
            node.reap()
        simulator.stop()
        zk.stop()
        zk.close()


@pytest.fixture
def three_nodes(cluster: Cluster) -> Cluster:
    """The module's cluster with all three nodes running and agreeing on one leader."""
    cluster.restore()
    cluster.agreed_leader()
    return cluster
