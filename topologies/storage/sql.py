"""Domain values to SQL rows and back, and version-guarded writes of the mirror.

Every mirror write carries the record's version; a row is only overwritten by a newer version, so
the writer that made a change and the watcher that hears of it later can apply it in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import prefetch_related_objects

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
    return mirror_runs([(run, version)])[0]


def mirror_new_runs(runs: list[RunInfo]) -> None:
    """Mirror runs this node just created.

    Their ZooKeeper version is not known without another read, so they are stored with version 0,
    older than any version a watcher brings; the watcher's later copy then only bumps the version.
    """
    mirror_runs([(run, 0) for run in runs])


def mirror_runs(items: Sequence[tuple[RunInfo, int]]) -> list[bool]:
    """Store each run unless a newer version is here; True where a row's content changed.

    One transaction and a handful of statements for the whole batch, whatever its size.
    """
    if not items:
        return []
    try:
        with transaction.atomic():
            return _mirror_runs(items)
    except IntegrityError:
        # Another process of this node inserted some of these runs first: look again.
        with transaction.atomic():
            return _mirror_runs(items)


def _mirror_runs(items: Sequence[tuple[RunInfo, int]]) -> list[bool]:
    existing = _existing_runs(items)
    _prefetch_tasks_of_outdated(existing, items)
    fresh: dict[tuple[str, str], tuple[RunInfo, int]] = {}
    bumped: list[tuple[models.TopologyRun, RunInfo]] = []
    rewritten: list[tuple[models.TopologyRun, RunInfo]] = []
    results: list[bool] = []
    for run, version in items:
        key = (run.topology_id, run.run_id)
        row = existing.get(key)
        if row is None:
            results.append(key not in fresh)
            fresh[key] = max(fresh.get(key, (run, version)), (run, version), key=lambda i: i[1])
        elif row.version >= version:
            results.append(False)
        else:
            row.version = version
            # Every write moves ``updated``: only a record that kept it may be unchanged.
            same = row.updated == run.updated and run_from_row(row) == run
            (bumped if same else rewritten).append((row, run))
            results.append(not same)
    _insert_runs(list(fresh.values()))
    _rewrite_runs(rewritten)
    update_rows(models.TopologyRun, ["version"], [row for row, _ in bumped])
    return results


def _prefetch_tasks_of_outdated(
    existing: dict[tuple[str, str], models.TopologyRun], items: Sequence[tuple[RunInfo, int]]
) -> None:
    """Load, in one query, the tasks of every row about to be compared with a newer record."""
    outdated = [
        row
        for run, version in items
        if (row := existing.get((run.topology_id, run.run_id))) is not None
        and row.version < version
        and row.updated == run.updated
    ]
    prefetch_related_objects(outdated, "task_runs")


def _existing_runs(
    items: Sequence[tuple[RunInfo, int]],
) -> dict[tuple[str, str], models.TopologyRun]:
    topology_ids = {run.topology_id for run, _ in items}
    run_ids = {run.run_id for run, _ in items}
    rows = models.TopologyRun.objects.filter(topology_id__in=topology_ids, run_id__in=run_ids)
    return {(row.topology_id, row.run_id): row for row in rows}


def _insert_runs(items: list[tuple[RunInfo, int]]) -> None:
    rows = models.TopologyRun.objects.bulk_create(
        models.TopologyRun(topology_id=r.topology_id, run_id=r.run_id, version=v, **run_columns(r))
        for r, v in items
    )
    models.TaskRun.objects.bulk_create(
        task for row, (run, _) in zip(rows, items, strict=True) for task in task_rows(row, run)
    )


def _rewrite_runs(changed: list[tuple[models.TopologyRun, RunInfo]]) -> None:
    if not changed:
        return
    for row, run in changed:
        for column, value in run_columns(run).items():
            setattr(row, column, value)
    fields = ["version", *run_columns(changed[0][1])]
    rows = [row for row, _ in changed]
    update_rows(models.TopologyRun, fields, rows)
    tasks = [task for row, run in changed for task in task_rows(row, run)]
    matched = update_rows(models.TaskRun, _TASK_FIELDS, tasks, key=("run", "task_name"))
    stored = models.TaskRun.objects.filter(run__in=rows)
    # Each (run, task name) is unique: every new task matched and no other row stored means the
    # task lists are unchanged. Otherwise a list grew or shrank: write its task rows afresh.
    if matched < len(tasks) or stored.count() != len(tasks):
        stored.delete()
        models.TaskRun.objects.bulk_create(tasks)


_TASK_FIELDS = ["position", "task_id", "state", "upstream_id", "error_message"]


def update_rows(
    model: Any, fields: Sequence[str], rows: Sequence[Any], key: Sequence[str] = ("pk",)
) -> int:
    """Write ``fields`` of existing ``rows`` with one prepared UPDATE; the rows matched.

    ``bulk_update`` builds a CASE expression per field and row, which cost the mirror more
    than the database's own work on busy schedulers.
    """
    if not rows:
        return 0
    meta = model._meta
    written = [meta.get_field(name) for name in fields]
    keys = [meta.pk if name == "pk" else meta.get_field(name) for name in key]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in written)
    condition = " AND ".join(f"{quote(field.column)} = %s" for field in keys)
    statement = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {condition}"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in written]
        + [getattr(row, field.attname) for field in keys]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)
        return int(cursor.rowcount)


def replace_run(run: RunInfo, expected_version: int) -> bool:
    """Compare-and-set for the embedded store: write ``run`` if its row still has that version."""
    with transaction.atomic():
        rows = models.TopologyRun.objects.filter(
            topology_id=run.topology_id, run_id=run.run_id, version=expected_version
        )
        if not rows.update(version=expected_version + 1, **run_columns(run)):
            return False
        row = rows.model.objects.get(topology_id=run.topology_id, run_id=run.run_id)
        row.task_runs.all().delete()
        models.TaskRun.objects.bulk_create(task_rows(row, run))
    return True


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
