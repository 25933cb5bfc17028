from __future__ import annotations

from dataclasses import replace

import pytest

from tests.topologies.storage import samples
from topologies.domain import (
    UNKNOWN_UPSTREAM,
    AtTrigger,
    RunInfo,
    RunState,
    RunType,
    TaskRecord,
    TaskState,
    TopologyState,
)
from topologies.retention import expired_runs, purge_expired_runs
from topologies.storage.base import Store

pytestmark = pytest.mark.django_db(transaction=True)


def finished(
    run_id: str, updated: int, upstream: str | None = "same", run_type: RunType = RunType.SCHEDULED
) -> RunInfo:
    run = samples.run(run_id=run_id, updated=updated)
    task_id = run.tasks["docker-task"].task_id
    upstream_id = task_id if upstream == "same" else upstream
    record = TaskRecord(task_id, TaskState.COMPLETED, upstream_id, "")
    return replace(
        run.with_task("docker-task", record, updated).finished(
            RunState.SUCCESSFUL, "Task successful", updated
        ),
        run_type=run_type,
    )


class TestExpiredRuns:
    def test_keeps_the_newest_finished_runs(self) -> None:
        runs = [finished(f"R{i}", updated=i) for i in range(8)]
        assert [r.run_id for r in expired_runs(runs, keep=5, one_shot=False)] == ["R2", "R1", "R0"]

    def test_running_runs_are_neither_removed_nor_counted(self) -> None:
        running = samples.run(run_id="OLD-RUNNING", updated=0)
        runs = [running] + [finished(f"R{i}", updated=10 + i) for i in range(6)]
        expired = expired_runs(runs, keep=5, one_shot=False)
        assert [r.run_id for r in expired] == ["R0"]

    def test_one_shot_topology_keeps_its_newest_scheduled_run(self) -> None:
        scheduled = finished("ESR-1", updated=1)
        instants = [
            finished(f"EIR-{i}", updated=10 + i, run_type=RunType.INSTANT) for i in range(10)
        ]
        expired = {r.run_id for r in expired_runs([scheduled, *instants], keep=5, one_shot=True)}
        assert "ESR-1" not in expired
        assert len(expired) == 5

    def test_the_newest_run_that_ran_outlives_the_skips_after_it(self) -> None:
        ran = finished("ESR-0", updated=0)
        skipped = [
            replace(finished(f"ESR-{i}", updated=i), state=RunState.SKIPPED) for i in range(1, 9)
        ]
        older = finished("ESR-OLDER", updated=-1)
        expired = expired_runs([older, ran, *skipped], keep=5, one_shot=False)
        assert [r.run_id for r in expired] == ["ESR-3", "ESR-2", "ESR-1", "ESR-OLDER"]


class RecordingDrove:
    def __init__(self, fail: bool = False) -> None:
        self.deleted: list[str] = []
        self.fail = fail

    def delete(self, upstream_id: str) -> bool:
        self.deleted.append(upstream_id)
        return not self.fail


class TestPurge:
    def test_purges_each_topology_and_deletes_drove_records(self, store: Store) -> None:
        for name in ("a", "b"):
            store.create_topology(samples.topology(name))
            for index in range(7):
                store.create_run(replace(finished(f"R{index}", updated=index), topology_id=name))
        drove = RecordingDrove()
        report = purge_expired_runs(store, keep=5, delete_drove_task=drove.delete)
        assert report.runs_deleted == 4
        assert [r.run_id for r in store.list_runs("a")] == ["R6", "R5", "R4", "R3", "R2"]
        assert sorted(drove.deleted) == sorted(
            f"nightly-report-R{i}-docker-task" for i in (0, 1) for _ in ("a", "b")
        )

    def test_no_drove_delete_for_unknown_or_absent_upstream(self, store: Store) -> None:
        store.create_topology(samples.topology())
        for index, upstream in enumerate([UNKNOWN_UPSTREAM, None, ""]):
            store.create_run(finished(f"R{index}", updated=index, upstream=upstream))
        drove = RecordingDrove()
        purge_expired_runs(store, keep=1, delete_drove_task=drove.delete)
        assert drove.deleted == []
        assert len(store.list_runs("nightly-report")) == 1

    def test_deletion_stands_when_drove_fails(self, store: Store) -> None:
        store.create_topology(samples.topology())
        for index in range(3):
            store.create_run(finished(f"R{index}", updated=index))
        report = purge_expired_runs(
            store, keep=1, delete_drove_task=RecordingDrove(fail=True).delete
        )
        assert (report.runs_deleted, report.drove_failures) == (2, 2)
        assert [r.run_id for r in store.list_runs("nightly-report")] == ["R2"]

    def test_deleted_topologies_are_left_alone(self, store: Store) -> None:
        store.create_topology(samples.topology().with_state(TopologyState.DELETED, 1))
        for index in range(3):
            store.create_run(finished(f"R{index}", updated=index))
        purge_expired_runs(store, keep=1, delete_drove_task=RecordingDrove().delete)
        assert len(store.list_runs("nightly-report")) == 3

    def test_at_topology_keeps_its_spent_marker(self, store: Store) -> None:
        details = samples.topology()
        store.create_topology(
            replace(details, topology=replace(details.topology, trigger=AtTrigger(5)))
        )
        store.create_run(finished("ESR-1", updated=1))
        for index in range(10):
            store.create_run(finished(f"EIR-{index}", updated=10 + index, run_type=RunType.INSTANT))
        purge_expired_runs(store, keep=5, delete_drove_task=RecordingDrove().delete)
        remaining = {r.run_id for r in store.list_runs("nightly-report")}
        assert "ESR-1" in remaining
        assert len(remaining) == 6
