"""Domain values to SQL rows and back, and version-guarded writes of the mirror.

Every mirror write carries the record's version; a row is only overwritten by a newer version, so
the writer that made a change and the watcher that hears of it later can apply it in any order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from topologies import models
from topologies.codec import details_from_json, run_from_json, topology_to_json
from topologies.codec.documents import task_record_to_json
from topologies.domain import (
    AtTrigger,
    CompositeTask,
    CronTrigger,
    MailNotification,
    RunInfo,
    TopologyDetails,
    container_tasks,
)


def topology_columns(details: TopologyDetails) -> dict[str, Any]:
    topology = details.topology
    trigger, notify = topology.trigger, topology.notify
    first_container = next(container_tasks(topology.task), None)
    return {
        "state": details.state.value,
        "definition": topology_to_json(topology),
        "task_type": "COMPOSITE"
        if isinstance(topology.task, CompositeTask)
        else "CONTAINER_EXECUTION",
        "image": (first_container.image if first_container else None) or "",
        "trigger_type": trigger.type.value,
        "cron_expression": trigger.time_spec if isinstance(trigger, CronTrigger) else "",
        "at_time": trigger.time if isinstance(trigger, AtTrigger) else None,
        "notify_type": notify.type.value if notify else "",
        "notify_emails": list(notify.emails) if isinstance(notify, MailNotification) else [],
        "created": details.created,
        "updated": details.updated,
    }


def details_from_row(row: models.Topology) -> TopologyDetails:
    document = {
        "id": row.id,
        "topology": row.definition,
        "state": row.state,
        "created": row.created,
        "updated": row.updated,
    }
    return details_from_json(document)


def run_columns(run: RunInfo) -> dict[str, Any]:
    return {
        "state": run.state.value,
        "run_type": run.run_type.value,
        "message": run.message,
        "created": run.created,
        "updated": run.updated,
    }


def run_from_row(row: models.TopologyRun) -> RunInfo:
    tasks = {task.task_name: _task_document(task) for task in row.task_runs.all()}
    document = {
        "topologyId": row.topology_id,
        "runId": row.run_id,
        "tasks": tasks,
        "message": row.message,
        **{key: getattr(row, attr) for key, attr in _RUN_KEYS.items()},
    }
    return run_from_json(document)


_RUN_KEYS = {"state": "state", "runType": "run_type", "created": "created", "updated": "updated"}


def _task_document(task: models.TaskRun) -> dict[str, Any]:
    document: dict[str, Any] = {"taskId": task.task_id, "state": task.state}
    if task.upstream_id is not None:
        document["upstreamId"] = task.upstream_id
    if task.error_message is not None:
        document["errorMessage"] = task.error_message
    return document


def task_rows(row: models.TopologyRun, run: RunInfo) -> list[models.TaskRun]:
    rows = []
    for position, (name, record) in enumerate(run.tasks.items()):
        document = task_record_to_json(record)
        rows.append(
            models.TaskRun(
                run=row,
                position=position,
                task_name=name,
                task_id=document["taskId"],
                state=document["state"],
                upstream_id=document.get("upstreamId"),
                error_message=document.get("errorMessage"),
            )
        )
    return rows


def runs_query(topology_id: str) -> Any:
    return models.TopologyRun.objects.filter(topology_id=topology_id).prefetch_related("task_runs")


# --- version-guarded mirror writes --------------------------------------------------------------


def mirror_topology(details: TopologyDetails, version: int) -> bool:
    """Store ``details`` unless a newer version is already here; True if the row changed."""
    columns = topology_columns(details)
    with transaction.atomic():
        changed = models.Topology.objects.filter(id=details.id, version__lt=version).update(
            version=version, **columns
        )
        if changed or models.Topology.objects.filter(id=details.id).exists():
            return bool(changed)
        return _insert(models.Topology, id=details.id, version=version, **columns)


def mirror_run(run: RunInfo, version: int) -> bool:
    columns = run_columns(run)
    with transaction.atomic():
        rows = models.TopologyRun.objects.filter(topology_id=run.topology_id, run_id=run.run_id)
        if rows.filter(version__lt=version).update(version=version, **columns):
            row = rows.get()
            row.task_runs.all().delete()
        elif rows.exists() or not _insert_run(run, version, columns):
            return False
        else:
            row = rows.get()
        models.TaskRun.objects.bulk_create(task_rows(row, run))
        return True


def mirror_new_runs(runs: list[RunInfo]) -> None:
    """Mirror runs this node just created, in one statement per table.

    Their ZooKeeper version is not known without another read, so they are stored with version 0,
    older than any version a watcher will bring; a run already mirrored is left as it is.
    """
    if not runs:
        return
    try:
        with transaction.atomic():
            _bulk_insert_runs(runs)
    except IntegrityError:
        for run in runs:  # another process mirrored some of them first
            mirror_run(run, 0)


def _bulk_insert_runs(runs: list[RunInfo]) -> None:
    topology_ids = {run.topology_id for run in runs}
    existing = set(
        models.TopologyRun.objects.filter(topology_id__in=topology_ids).values_list(
            "topology_id", "run_id"
        )
    )
    fresh = [run for run in runs if (run.topology_id, run.run_id) not in existing]
    rows = models.TopologyRun.objects.bulk_create(
        models.TopologyRun(topology_id=r.topology_id, run_id=r.run_id, version=0, **run_columns(r))
        for r in fresh
    )
    models.TaskRun.objects.bulk_create(
        task for row, run in zip(rows, fresh, strict=True) for task in task_rows(row, run)
    )


def _insert_run(run: RunInfo, version: int, columns: dict[str, Any]) -> bool:
    return _insert(
        models.TopologyRun,
        topology_id=run.topology_id,
        run_id=run.run_id,
        version=version,
        **columns,
    )


def _insert(model: Any, **values: Any) -> bool:
    # Another process of this node may insert the same record at the same moment; both carry
    # the same content, so losing that race is not an error.
    try:
        with transaction.atomic():
            model.objects.create(**values)
    except IntegrityError:
        return False
    return True


def unmirror_topology(topology_id: str) -> bool:
    deleted, _ = models.Topology.objects.filter(id=topology_id).delete()
    return bool(deleted > 0)


def unmirror_run(topology_id: str, run_id: str) -> bool:
    rows = models.TopologyRun.objects.filter(topology_id=topology_id, run_id=run_id)
    deleted, _ = rows.delete()
    return bool(deleted > 0)


def unmirror_runs(topology_id: str, run_ids: Iterable[str] | None = None) -> int:
    rows = models.TopologyRun.objects.filter(topology_id=topology_id)
    if run_ids is not None:
        rows = rows.filter(run_id__in=list(run_ids))
    _, per_model = rows.delete()
    return int(per_model.get(models.TopologyRun._meta.label, 0))
