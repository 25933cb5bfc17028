"""The storage contract, run against the ZooKeeper store and the embedded SQL store alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.topologies.storage import samples
from topologies.domain import RunState, TaskRecord, TaskState, TopologyDetails, TopologyState
from topologies.storage.base import AlreadyExists, NotFound, Store

pytestmark = pytest.mark.django_db(transaction=True)


class TestTopologies:
    def test_created_topology_reads_back_equal(self, store: Store) -> None:
        details = samples.topology()
        store.create_topology(details)
        assert store.get_topology(details.id) == details
        assert store.list_topologies() == [details]

    def test_second_create_of_an_id_is_refused_and_changes_nothing(self, store: Store) -> None:
        store.create_topology(samples.topology(created=1))
        with pytest.raises(AlreadyExists):
            store.create_topology(samples.topology(created=2))
        stored = store.get_topology("nightly-report")
        assert stored is not None
        assert stored.created == 1

    def test_list_is_sorted_by_id(self, store: Store) -> None:
        for name in ("b", "c", "a"):
            store.create_topology(samples.topology(name))
        assert [d.id for d in store.list_topologies()] == ["a", "b", "c"]

    def test_unknown_topology_reads_as_none(self, store: Store) -> None:
        assert store.get_topology("nope") is None

    def test_update_applies_the_change(self, store: Store) -> None:
        store.create_topology(samples.topology())
        updated = store.update_topology(
            "nightly-report", lambda d: d.with_state(TopologyState.PAUSED, 5)
        )
        assert updated.state is TopologyState.PAUSED
        assert store.get_topology("nightly-report") == updated

    def test_update_returning_none_writes_nothing(self, store: Store) -> None:
        store.create_topology(samples.topology())
        before = store.get_topology("nightly-report")
        assert store.update_topology("nightly-report", lambda d: None) == before

    def test_update_of_unknown_topology_raises_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.update_topology("nope", lambda d: d)

    def test_concurrent_updates_both_survive(self, store: Store) -> None:
        """A pause racing a full update: the loser re-reads and re-applies (no lost update)."""
        store.create_topology(samples.topology())
        calls = 0

        def pause_racing_an_update(current: TopologyDetails) -> TopologyDetails:
            nonlocal calls
            calls += 1
            if calls == 1:  # another writer gets in between our read and our write
                store.update_topology("nightly-report", lambda d: replace(d, updated=99))
            return current.with_state(TopologyState.PAUSED, current.updated)

        result = store.update_topology("nightly-report", pause_racing_an_update)
        assert calls == 2
        assert (result.state, result.updated) == (TopologyState.PAUSED, 99)
        assert store.get_topology("nightly-report") == result

    def test_delete_removes_the_topology_and_its_runs(self, store: Store) -> None:
        store.create_topology(samples.topology())
        store.create_run(samples.run())
        assert store.delete_topology("nightly-report") is True
        assert store.get_topology("nightly-report") is None
        assert store.list_runs("nightly-report") == []

    def test_delete_of_unknown_topology_reports_nothing_deleted(self, store: Store) -> None:
        assert store.delete_topology("nope") is False


class TestRuns:
    def test_run_is_created_once(self, store: Store) -> None:
        store.create_topology(samples.topology())
        assert store.create_run(samples.run()) is True
        second = replace(samples.run(), message="another node's attempt")
        assert store.create_run(second) is False
        stored = store.get_run("nightly-report", samples.run().run_id)
        assert stored == samples.run()

    def test_run_of_a_missing_topology_is_refused(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.create_run(samples.run())
        assert store.list_runs("nightly-report") == []

    def test_runs_are_listed_newest_updated_first(self, store: Store) -> None:
        store.create_topology(samples.topology())
        for index, updated in enumerate((30, 10, 20)):
            store.create_run(samples.run(run_id=f"R{index}", updated=updated))
        assert [r.run_id for r in store.list_runs("nightly-report")] == ["R0", "R2", "R1"]

    def test_update_run_records_task_state_and_keeps_created(self, store: Store) -> None:
        store.create_topology(samples.topology())
        run = samples.run()
        store.create_run(run)
        record = TaskRecord(run.tasks["docker-task"].task_id, TaskState.RUNNING, "up", "")
        updated = store.update_run(
            run.topology_id, run.run_id, lambda r: r.with_task("docker-task", record, 7)
        )
        assert updated.tasks["docker-task"] == record
        assert store.get_run(run.topology_id, run.run_id) == updated
        assert updated.created == run.created

    def test_update_of_unknown_run_raises_not_found(self, store: Store) -> None:
        store.create_topology(samples.topology())
        with pytest.raises(NotFound):
            store.update_run("nightly-report", "TR-2", lambda r: r)

    def test_concurrent_run_updates_both_survive(self, store: Store) -> None:
        store.create_topology(samples.topology())
        run = samples.run()
        store.create_run(run)
        calls = 0

        def finish_racing_a_task_update(current):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == 1:
                record = TaskRecord("x", TaskState.COMPLETED, "x", "")
                store.update_run(
                    run.topology_id, run.run_id, lambda r: r.with_task("docker-task", record, 8)
                )
            return current.finished(RunState.SUCCESSFUL, "Task successful", 9)

        result = store.update_run(run.topology_id, run.run_id, finish_racing_a_task_update)
        assert result.state is RunState.SUCCESSFUL
        assert result.tasks["docker-task"].state is TaskState.COMPLETED

    def test_delete_runs_ignores_absent_ones(self, store: Store) -> None:
        store.create_topology(samples.topology())
        for run_id in ("R1", "R2", "R3"):
            store.create_run(samples.run(run_id=run_id))
        assert store.delete_runs("nightly-report", ["R1", "R3", "R9"]) == 2
        assert [r.run_id for r in store.list_runs("nightly-report")] == ["R2"]

    def test_editing_a_topology_keeps_its_runs(self, store: Store) -> None:
        store.create_topology(samples.topology())
        store.create_run(samples.run())
        store.update_topology("nightly-report", lambda d: replace(d, updated=d.updated + 1))
        assert len(store.list_runs("nightly-report")) == 1
