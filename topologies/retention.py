"""Retention: each topology keeps its newest finished runs; older ones go, with their Drove records.

Rules (epoch-model.md §18): RUNNING runs are never removed and not counted; of the others the
newest ``keep`` by ``updated`` stay; an AT topology always keeps its newest SCHEDULED run (it is
what marks the one-shot trigger as spent). Beyond the spec, and only ever keeping more: the newest
run that actually ran (not SKIPPED) always stays. A job running longer than its interval records a
SKIPPED fire every interval; without this rule those records push the last real outcome out of
the history while the next run is still going.

Stored ``DELETED`` topologies are left alone. Removing a run deletes it from the store first; its
tasks' Drove records are deleted afterwards, and a Drove failure is logged without undoing the
removal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from topologies.domain import (
    UNKNOWN_UPSTREAM,
    AtTrigger,
    RunInfo,
    RunState,
    RunType,
    TopologyDetails,
    TopologyState,
)
from topologies.storage.base import Store, StoreError

log = logging.getLogger(__name__)

DeleteDroveTask = Callable[[str], bool]


@dataclass
class RetentionReport:
    runs_deleted: int = 0
    drove_records_deleted: int = 0
    drove_failures: int = 0
    topologies_failed: int = 0


def expired_runs(runs: Sequence[RunInfo], keep: int, one_shot: bool) -> list[RunInfo]:
    """The runs retention removes from one topology's ``runs``."""
    finished = sorted(
        (run for run in runs if run.state is not RunState.RUNNING),
        key=lambda run: run.updated,
        reverse=True,
    )
    kept = [next((r for r in finished if r.state is not RunState.SKIPPED), None)]
    if one_shot:
        kept.append(next((r for r in finished if r.run_type is RunType.SCHEDULED), None))
    return [run for run in finished[keep:] if not any(run is marker for marker in kept)]


def purge_expired_runs(
    store: Store, keep: int, delete_drove_task: DeleteDroveTask
) -> RetentionReport:
    """One retention pass over every topology; errors on one topology do not stop the others."""
    report = RetentionReport()
    for details in store.list_topologies():
        if details.state is TopologyState.DELETED:
            continue
        try:
            _purge_topology(store, details, keep, delete_drove_task, report)
        except StoreError:
            report.topologies_failed += 1
            log.exception("Retention failed for topology %s", details.id)
    return report


def _purge_topology(
    store: Store,
    details: TopologyDetails,
    keep: int,
    delete_drove_task: DeleteDroveTask,
    report: RetentionReport,
) -> None:
    one_shot = isinstance(details.topology.trigger, AtTrigger)
    expired = expired_runs(store.list_runs(details.id), keep, one_shot)
    if not expired:
        return
    report.runs_deleted += store.delete_runs(details.id, [run.run_id for run in expired])
    for run in expired:
        _delete_drove_records(run, delete_drove_task, report)


def _delete_drove_records(
    run: RunInfo, delete_drove_task: DeleteDroveTask, report: RetentionReport
) -> None:
    for record in run.tasks.values():
        if not record.upstream_id or record.upstream_id == UNKNOWN_UPSTREAM:
            continue
        try:
            deleted = delete_drove_task(record.upstream_id)
        except Exception:  # noqa: BLE001 - a Drove failure must not undo the store deletion
            log.exception("Could not delete Drove record %s", record.upstream_id)
            deleted = False
        if deleted:
            report.drove_records_deleted += 1
        else:
            report.drove_failures += 1
            log.warning("Drove record %s of run %s was not deleted", record.upstream_id, run.run_id)
