"""The SQL mirror follows ZooKeeper: through watches, after reconnection, session loss and restart."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command
from kazoo.client import KazooClient

from tests.support.zookeeper import ZooKeeperServer
from tests.topologies.storage import samples
from tests.topologies.storage.test_zk import load_original_data
from topologies import models
from topologies.domain import RunInfo, RunState, TaskRecord, TaskState, TopologyState
from topologies.storage.mirror import ZkMirror
from topologies.storage.paths import Paths
from topologies.storage.sql import mirror_runs, run_from_row, runs_query, topology_columns
from topologies.storage.zk import ZkStore

pytestmark = pytest.mark.django_db(transaction=True)


def eventually(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def sql_ids() -> list[str]:
    return list(models.Topology.objects.order_by("id").values_list("id", flat=True))


def sql_run_state(topology_id: str, run_id: str) -> str | None:
    row = models.TopologyRun.objects.filter(topology_id=topology_id, run_id=run_id).first()
    return row.state if row else None


@pytest.fixture
def other_node(zk_connection_string: str) -> Iterator[ZkStore]:
    """Writes made by another node: straight to ZooKeeper, not to this node's SQL."""
    client = KazooClient(hosts=zk_connection_string)
    client.start(timeout=10)
    yield ZkStore(client, Paths(), mirror=False)
    client.stop()
    client.close()


@pytest.fixture
def mirror(zk: KazooClient) -> Iterator[ZkMirror]:
    mirror = ZkMirror(zk, Paths())
    mirror.start()
    assert mirror.wait_until_idle()
    yield mirror
    mirror.stop()


def expire_session(client: KazooClient, connection_string: str) -> None:
    """Expire ``client``'s session for real: a second connection takes it over and closes it."""
    session_id, password = client.client_id
    thief = KazooClient(hosts=connection_string, client_id=(session_id, password))
    thief.start(timeout=10)
    thief.stop()
    thief.close()


def test_another_nodes_writes_reach_this_nodes_sql(mirror: ZkMirror, other_node: ZkStore) -> None:
    other_node.create_topology(samples.topology("a"))
    other_node.create_run(samples.run("a", "R1"))
    eventually(lambda: sql_run_state("a", "R1") == "RUNNING")
    other_node.update_topology("a", lambda d: d.with_state(TopologyState.PAUSED, 9))
    other_node.update_run("a", "R1", lambda r: r.finished(RunState.FAILED, "Task failed", 9))
    eventually(lambda: sql_run_state("a", "R1") == "FAILED")
    eventually(lambda: models.Topology.objects.get(id="a").state == "PAUSED")
    other_node.delete_runs("a", ["R1"])
    eventually(lambda: sql_run_state("a", "R1") is None)
    other_node.delete_topology("a")
    eventually(lambda: sql_ids() == [])


def test_a_write_through_this_node_is_in_its_next_read(zk_store: ZkStore) -> None:
    zk_store.create_topology(samples.topology("a"))
    assert sql_ids() == ["a"]
    zk_store.create_run(samples.run("a", "R1"))
    assert sql_run_state("a", "R1") == "RUNNING"


def test_start_loads_what_zookeeper_already_holds(zk: KazooClient) -> None:
    load_original_data(zk)
    mirror = ZkMirror(zk, Paths())
    mirror.start()
    try:
        eventually(lambda: sql_ids() == ["TestTopology-EveryMin", "nightly-report"])
        eventually(
            lambda: (
                sql_run_state("TestTopology-EveryMin", "ESR-2023-06-30-14-00-00-000") == "SKIPPED"
            )
        )
    finally:
        mirror.stop()


def test_session_expiry_resynchronises(
    zk: KazooClient, mirror: ZkMirror, other_node: ZkStore, zk_connection_string: str
) -> None:
    other_node.create_topology(samples.topology("before"))
    eventually(lambda: sql_ids() == ["before"])
    expire_session(zk, zk_connection_string)
    other_node.create_topology(samples.topology("during"))
    other_node.delete_topology("before")
    eventually(lambda: sql_ids() == ["during"])
    other_node.create_topology(samples.topology("after"))
    eventually(lambda: sql_ids() == ["after", "during"])


def test_zookeeper_restart_resynchronises(
    zookeeper: ZooKeeperServer, mirror: ZkMirror, other_node: ZkStore
) -> None:
    other_node.create_topology(samples.topology("before"))
    eventually(lambda: sql_ids() == ["before"])
    zookeeper.restart()
    other_node.create_topology(samples.topology("after"))
    other_node.update_topology("before", lambda d: d.with_state(TopologyState.PAUSED, 1))
    eventually(lambda: sql_ids() == ["after", "before"], timeout_s=30)
    eventually(lambda: models.Topology.objects.get(id="before").state == "PAUSED", timeout_s=30)


class TestSyncStoreCommand:
    def run_command(self) -> str:
        out = io.StringIO()
        call_command("sync_store", stdout=out)
        return out.getvalue()

    def test_rebuilds_the_mirror_and_reports_changes(
        self, cluster_settings: Any, zk: KazooClient
    ) -> None:
        load_original_data(zk)
        assert self.run_command() == (
            "topologies: 2 added, 0 updated, 0 removed\nruns: 2 added, 0 updated, 0 removed\n"
        )
        assert sql_ids() == ["TestTopology-EveryMin", "nightly-report"]
        models.Topology.objects.filter(id="nightly-report").update(version=0, state="PAUSED")
        models.TopologyRun.objects.filter(topology_id="nightly-report").delete()
        stray = samples.topology("stray")
        models.Topology.objects.create(id="stray", version=1, **topology_columns(stray))
        assert self.run_command() == (
            "topologies: 0 added, 1 updated, 1 removed\nruns: 1 added, 0 updated, 0 removed\n"
        )
        assert models.Topology.objects.get(id="nightly-report").state == "ACTIVE"
        assert sql_ids() == ["TestTopology-EveryMin", "nightly-report"]
        assert self.run_command() == (
            "topologies: 0 added, 0 updated, 0 removed\nruns: 0 added, 0 updated, 0 removed\n"
        )


class TestVersionedRunWrites:
    """The mirror's batched run writes: newer versions win, task rows follow the record."""

    def stored(self, run_id: str) -> RunInfo:
        return run_from_row(runs_query("nightly-report").get(run_id=run_id))

    def test_a_newer_version_rewrites_state_and_tasks(self) -> None:
        run = samples.run()
        mirror_runs([(run, 1)])
        record = TaskRecord(run.tasks["docker-task"].task_id, TaskState.RUNNING, "up", "")
        newer = run.with_task("docker-task", record, 5).finished(RunState.SUCCESSFUL, "done", 6)
        assert mirror_runs([(newer, 2), (run, 1)]) == [True, False]
        assert self.stored(run.run_id) == newer

    def test_an_older_version_changes_nothing(self) -> None:
        run = samples.run()
        newer = run.finished(RunState.FAILED, "failed", 9)
        mirror_runs([(newer, 5)])
        assert mirror_runs([(run, 4)]) == [False]
        assert self.stored(run.run_id) == newer

    def test_a_changed_task_list_is_written_afresh(self) -> None:
        run = samples.run()
        mirror_runs([(run, 1)])
        extra = TaskRecord("extra-task-id", TaskState.PENDING)
        grown = replace(run, tasks={**run.tasks, "extra": extra})
        assert mirror_runs([(grown, 2)]) == [True]
        assert self.stored(run.run_id).tasks == grown.tasks

    def test_a_shrunk_task_list_drops_the_tasks_it_lost(self) -> None:
        run = samples.run()
        grown = replace(
            run, tasks={**run.tasks, "extra": TaskRecord("extra-id", TaskState.PENDING)}
        )
        mirror_runs([(grown, 1)])
        assert mirror_runs([(run, 2)]) == [True]
        assert self.stored(run.run_id).tasks == run.tasks

    def test_a_task_change_that_kept_updated_is_still_written(self) -> None:
        run = samples.run()
        mirror_runs([(run, 0)])  # a write through this node: version unknown
        record = TaskRecord(run.tasks["docker-task"].task_id, TaskState.RUNNING, "up", "")
        changed = replace(run, tasks={"docker-task": record})
        assert mirror_runs([(changed, 3)]) == [True]
        assert self.stored(run.run_id) == changed

    def test_newer_versions_of_unchanged_runs_cost_a_few_queries_per_batch(
        self, django_assert_max_num_queries: Any
    ) -> None:
        runs = [samples.run(run_id=f"ESR-2024-10-18-02-{i:02d}-00-000") for i in range(50)]
        mirror_runs([(run, 0) for run in runs])
        with django_assert_max_num_queries(8):  # not one (or two) per run
            assert mirror_runs([(run, 7) for run in runs]) == [False] * 50
        assert set(runs_query("nightly-report").values_list("version", flat=True)) == {7}


def test_in_sync_only_after_a_full_resynchronisation(zk: KazooClient) -> None:
    load_original_data(zk)
    mirror = ZkMirror(zk, Paths())
    assert not mirror.in_sync()
    mirror.start()
    try:
        eventually(mirror.in_sync)
        assert sql_ids() == ["TestTopology-EveryMin", "nightly-report"]
    finally:
        mirror.stop()
