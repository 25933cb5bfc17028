"""Two schedulers on one real ZooKeeper: every fire runs exactly once across a leader change.

Both nodes share the Drove simulator and a clock; each has its own ZooKeeper session, election
node and fenced store, as two Epoch nodes would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from kazoo.client import KazooClient

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator
from scheduler.core.clock import ManualClock
from scheduler.drove_gateway import DroveGateway
from scheduler.election import LeaderElection
from scheduler.engine import Engine
from scheduler.events import EventBus
from tests.drove_client.conftest import drove_config, fast_settings
from tests.scheduler.stepping import SECOND, START, STEPPED_OPTIONS, step
from tests.topologies.api.conftest import topology_body
from topologies.codec import topology_from_json
from topologies.domain import RunState, TopologyDetails, TopologyState
from topologies.storage.paths import Paths
from topologies.storage.zk import ZkStore

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Node:
    client: KazooClient
    election: LeaderElection
    store: ZkStore
    engine: Engine
    believes_it_leads: bool = False

    def step(self) -> None:
        step(self.engine)


@pytest.fixture
def simulator() -> Iterator[DroveSimulator]:
    with DroveSimulator(fast_settings()) as simulator:
        yield simulator


@pytest.fixture
def cluster(
    zk_connection_string: str, simulator: DroveSimulator
) -> Iterator[tuple[ManualClock, list[Node]]]:
    clock = ManualClock(START)
    nodes: list[Node] = []
    for name in ("a", "b"):
        client = KazooClient(
            hosts=zk_connection_string, timeout=2, connection_retry={"max_tries": -1}
        )
        client.start(timeout=10)
        election = LeaderElection(client, Paths(), f"http://node-{name}:8080")
        store = ZkStore(client, Paths(), fence=election.fence_path)
        gateway = DroveGateway(DroveClient(drove_config([simulator.url])))
        node = Node(
            client, election, store, Engine(store, gateway, clock, EventBus(), STEPPED_OPTIONS)
        )
        node.engine.is_leader = lambda n=node: n.believes_it_leads or n.election.is_leader
        nodes.append(node)
    yield clock, nodes
    for node in nodes:
        node.engine.close()
        node.election.stop()
        node.client.stop()
        node.client.close()


def eventually(
    condition: Callable[[], bool], step: Callable[[], None], timeout_s: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        step()
        time.sleep(0.02)


def test_every_fire_runs_once_across_a_leader_change_and_a_split_brain(
    cluster: tuple[ManualClock, list[Node]], simulator: DroveSimulator
) -> None:
    clock, (a, b) = cluster
    body = topology_body(trigger={"type": "CRON", "timeSpec": "0/5 * * * * ?"})
    body["task"]["env"] = {"DROVE_SIM_DURATION": "500ms"}
    a.store.create_topology(
        TopologyDetails("TEST_TOPO-1", topology_from_json(body), TopologyState.ACTIVE, START, START)
    )
    a.election.start()
    eventually(lambda: a.election.is_leader, lambda: None)
    b.election.start()

    def step_both() -> None:
        a.step()
        b.step()

    def runs() -> dict[str, RunState]:
        return {r.run_id[-9:-4]: r.state for r in b.store.list_runs("TEST_TOPO-1")}

    clock.set(START + 5 * SECOND)
    eventually(lambda: runs().get("00-05") is RunState.SUCCESSFUL, step_both)

    # Mid-run leader change: A fires 00:10, then leaves the election while the task runs.
    clock.set(START + 10 * SECOND)
    eventually(lambda: "00-10" in runs(), step_both)
    a.election.stop()
    eventually(lambda: b.election.is_leader, lambda: None)
    eventually(lambda: runs().get("00-10") is RunState.SUCCESSFUL, step_both)

    # Split brain: A still believes it leads, but its election node is gone, so its writes are
    # fenced off; B's fire is the only one.
    a.believes_it_leads = True
    clock.set(START + 15 * SECOND)
    eventually(lambda: runs().get("00-15") is RunState.SUCCESSFUL, step_both)

    # And without fencing at all, create-if-absent still lets only one node record a fire.
    a.store.fence = b.store.fence = lambda: None
    clock.set(START + 20 * SECOND)
    eventually(lambda: runs().get("00-20") is RunState.SUCCESSFUL, step_both)

    assert runs() == {f"00-{s:02d}": RunState.SUCCESSFUL for s in (5, 10, 15, 20)}
    task_ids = [task.task_id for task in simulator.store.tasks()]
    assert len(task_ids) == len(set(task_ids)) == 4
