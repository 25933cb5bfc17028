"""What only the ZooKeeper store promises: the original's layout and JSON, fencing, atomicity."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from kazoo.client import KazooClient

from tests.topologies import examples
from tests.topologies.storage import samples
from topologies.codec import details_to_json, run_to_json
from topologies.domain import RunState, TaskRecord, TaskState, TopologyState
from topologies.storage.base import NotFound, NotLeader
from topologies.storage.paths import Paths
from topologies.storage.zk import WrittenRuns, ZkStore

pytestmark = pytest.mark.django_db(transaction=True)


def load_original_data(zk: KazooClient) -> None:
    """Znodes exactly as the original Epoch wrote them (epoch-model.md §10)."""
    paused = json.loads(json.dumps(examples.DETAILS))
    paused.update(id="TestTopology-EveryMin", state="PAUSED")
    paused["topology"]["name"] = "TestTopology-EveryMin"
    zk.create(
        "/epoch/topologies/nightly-report", json.dumps(examples.DETAILS).encode(), makepath=True
    )
    zk.create("/epoch/topologies/TestTopology-EveryMin", json.dumps(paused).encode())
    run_path = "/epoch/runs/nightly-report/ESR-2024-10-18-02-30-00-000"
    zk.create(run_path, json.dumps(examples.SUCCESSFUL_RUN).encode(), makepath=True)
    skipped = "/epoch/runs/TestTopology-EveryMin/ESR-2023-06-30-14-00-00-000"
    zk.create(skipped, json.dumps(examples.SKIPPED_RUN).encode(), makepath=True)


class TestCompatibility:
    def test_reads_what_the_original_wrote(self, zk: KazooClient, zk_store: ZkStore) -> None:
        load_original_data(zk)
        details = zk_store.get_topology("nightly-report")
        assert details is not None
        assert details_to_json(details) == examples.DETAILS
        paused = zk_store.get_topology("TestTopology-EveryMin")
        assert paused is not None and paused.state is TopologyState.PAUSED
        (skipped,) = zk_store.list_runs("TestTopology-EveryMin")
        assert run_to_json(skipped) == examples.SKIPPED_RUN
        assert skipped.tasks["docker-task"].upstream_id is None

    def test_reading_rewrites_nothing(self, zk: KazooClient, zk_store: ZkStore) -> None:
        load_original_data(zk)
        before = zk.get("/epoch/topologies/nightly-report")[1].mzxid
        zk_store.list_topologies()
        zk_store.list_runs("nightly-report")
        assert zk.get("/epoch/topologies/nightly-report")[1].mzxid == before

    def test_writes_the_original_layout_and_json(self, zk: KazooClient, zk_store: ZkStore) -> None:
        details = samples.topology()
        zk_store.create_topology(details)
        zk_store.create_run(samples.run())
        data, _ = zk.get("/epoch/topologies/nightly-report")
        assert json.loads(data) == details_to_json(details)
        run_data, _ = zk.get("/epoch/runs/nightly-report/ESR-2024-10-18-02-30-00-000")
        stored = json.loads(run_data)
        assert stored["created"] == samples.run().created
        assert isinstance(stored["created"], int)
        assert stored["tasks"]["docker-task"] == {
            "taskId": "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task",
            "state": "PENDING",
        }

    def test_corrupt_node_is_skipped_in_listings(self, zk: KazooClient, zk_store: ZkStore) -> None:
        zk_store.create_topology(samples.topology("good"))
        zk.create("/epoch/topologies/bad", b"{not json")
        assert [d.id for d in zk_store.list_topologies()] == ["good"]
        assert zk_store.get_topology("bad") is None

    def test_namespace_is_configurable(self, zk: KazooClient) -> None:
        store = ZkStore(zk, Paths("epoch-b"))
        store.create_topology(samples.topology())
        assert zk.exists("/epoch-b/topologies/nightly-report") is not None
        assert zk.exists("/epoch/topologies/nightly-report") is None


class TestExactlyOnce:
    def test_two_nodes_racing_to_create_one_run_write_it_once(
        self, zk: KazooClient, zk_connection_string: str
    ) -> None:
        ZkStore(zk, Paths()).create_topology(samples.topology())
        clients = [KazooClient(hosts=zk_connection_string) for _ in range(2)]
        for client in clients:
            client.start(timeout=10)
        results: list[bool] = []
        barrier = threading.Barrier(2)

        def create(client: KazooClient, node: str) -> None:
            store = ZkStore(client, Paths(), mirror=False)
            barrier.wait()
            run = samples.run()
            results.append(store.create_run(run.finished(RunState.RUNNING, node, run.updated)))

        threads = [
            threading.Thread(target=create, args=(c, f"node-{i}")) for i, c in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.stop()
            client.close()
        assert sorted(results) == [False, True]
        assert zk.get_children("/epoch/runs/nightly-report") == ["ESR-2024-10-18-02-30-00-000"]

    def test_no_run_node_appears_for_a_deleted_topology(
        self, zk: KazooClient, zk_store: ZkStore
    ) -> None:
        zk_store.create_topology(samples.topology())
        zk_store.delete_topology("nightly-report")
        with pytest.raises(Exception, match="nightly-report"):
            zk_store.create_run(samples.run())
        assert zk.exists("/epoch/runs/nightly-report") is None


class TestFencing:
    @pytest.fixture
    def election_node(self, zk: KazooClient) -> str:
        """This node's (ephemeral, sequential) child in the leader election."""
        return str(
            zk.create(
                "/epoch/leader-selection/_c_x-lock-",
                b"me",
                ephemeral=True,
                sequence=True,
                makepath=True,
            )
        )

    def test_leader_writes_succeed_while_its_election_node_exists(
        self, zk: KazooClient, election_node: str
    ) -> None:
        store = ZkStore(zk, Paths(), fence=lambda: election_node)
        store.create_topology(samples.topology())
        assert store.create_run(samples.run()) is True

    def test_writes_after_losing_leadership_are_refused(
        self, zk: KazooClient, election_node: str
    ) -> None:
        fence = election_node
        store = ZkStore(zk, Paths(), fence=lambda: fence)
        store.create_topology(samples.topology())
        store.create_run(samples.run(run_id="R1"))
        zk.delete(fence)
        with pytest.raises(NotLeader):
            store.create_run(samples.run(run_id="R2"))
        with pytest.raises(NotLeader):
            store.update_run("nightly-report", "R1", lambda r: r.finished(RunState.FAILED, "x", 1))
        assert zk.get_children("/epoch/runs/nightly-report") == ["R1"]
        stored = store.get_run("nightly-report", "R1")
        assert stored is not None and stored.state is RunState.RUNNING


class TestAtomicity:
    def test_deleting_a_topology_with_many_runs_leaves_nothing(
        self, zk: KazooClient, zk_store: ZkStore
    ) -> None:
        zk_store.create_topology(samples.topology())
        for index in range(620):  # more than one transaction batch
            zk_store.create_run(samples.run(run_id=f"R{index:04d}"))
        assert zk_store.delete_topology("nightly-report") is True
        assert zk.exists("/epoch/runs/nightly-report") is None
        assert zk.exists("/epoch/topologies/nightly-report") is None

    def test_task_and_run_state_change_in_one_write(
        self, zk: KazooClient, zk_store: ZkStore
    ) -> None:
        zk_store.create_topology(samples.topology())
        run = samples.run()
        zk_store.create_run(run)
        before = zk.get("/epoch/runs/nightly-report/" + run.run_id)[1].version

        def finish(current):  # type: ignore[no-untyped-def]
            record = current.tasks["docker-task"]
            done = type(record)(record.task_id, TaskState.COMPLETED, record.task_id, "")
            return current.with_task("docker-task", done, 5).finished(
                RunState.SUCCESSFUL, "Task successful", 5
            )

        zk_store.update_run("nightly-report", run.run_id, finish)
        assert zk.get("/epoch/runs/nightly-report/" + run.run_id)[1].version == before + 1


class TestRememberedRuns:
    """The leader updates a run it wrote from its remembered copy, and falls back when stale."""

    def running(self, name: str) -> TaskRecord:
        return TaskRecord(f"t-{name}", TaskState.RUNNING, f"u-{name}", "")

    def counted_reads(self, store: ZkStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        reads: list[str] = []
        read = store._read

        def counting(path: str):  # type: ignore[no-untyped-def]
            reads.append(path)
            return read(path)

        monkeypatch.setattr(store, "_read", counting)
        return reads

    def test_updates_after_its_own_writes_read_nothing(
        self, zk_store: ZkStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        zk_store.create_topology(samples.topology())
        run = samples.run()
        zk_store.create_run(run)
        reads = self.counted_reads(zk_store, monkeypatch)
        record = self.running("a")
        zk_store.update_run(
            run.topology_id, run.run_id, lambda r: r.with_task("docker-task", record, 7)
        )
        done = zk_store.update_run(
            run.topology_id, run.run_id, lambda r: r.finished(RunState.SUCCESSFUL, "ok", 8)
        )
        assert reads == []
        assert zk_store.get_run(run.topology_id, run.run_id) == done
        assert len(zk_store.written) == 0  # a finished run is not written again: forgotten

    def test_a_stale_copy_is_re_read_and_no_change_is_lost(
        self, zk: KazooClient, zk_store: ZkStore
    ) -> None:
        zk_store.create_topology(samples.topology())
        run = samples.run()
        zk_store.create_run(run)
        other = ZkStore(zk, Paths("epoch"))  # another writer, with a memory of its own
        other.update_run(run.topology_id, run.run_id, lambda r: replace(r, message="other"))
        record = self.running("b")
        zk_store.update_run(
            run.topology_id, run.run_id, lambda r: r.with_task("docker-task", record, 9)
        )
        stored = zk_store.get_run(run.topology_id, run.run_id)
        assert stored is not None
        assert stored.message == "other" and stored.tasks["docker-task"] == record

    def test_a_run_removed_behind_its_back_is_not_found(
        self, zk: KazooClient, zk_store: ZkStore
    ) -> None:
        zk_store.create_topology(samples.topology())
        run = samples.run()
        zk_store.create_run(run)
        zk.delete(f"/epoch/runs/{run.topology_id}/{run.run_id}")
        with pytest.raises(NotFound):
            zk_store.update_run(run.topology_id, run.run_id, lambda r: replace(r, message="x"))
        assert zk.exists(f"/epoch/runs/{run.topology_id}/{run.run_id}") is None


def test_remembered_runs_keep_the_newest_within_capacity() -> None:
    written = WrittenRuns(capacity=2)
    for name in ("a", "b", "c"):
        written.remember(name, samples.run(run_id=name), 1)
    assert len(written) == 2
    assert written.take("a") is None
    remembered = written.take("c")
    assert remembered is not None and remembered[0].run_id == "c"
    assert written.take("c") is None  # taken once: the next writer re-remembers it
