"""Topologies and runs to and from the original's JSON (API bodies and ZooKeeper payloads alike).

``*_from_json`` reads leniently, as the original's readers did: unknown keys are dropped, enum
values are case-insensitive, missing optional fields take their defaults. Input validation is a
separate step (``topologies.validation``) applied to API input only, never to stored data.
``*_to_json`` writes the canonical form: camelCase keys, ``type`` first, nulls omitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from topologies.codec.drove_objects import CONTAINER_TASK_FIELDS
from topologies.codec.fields import (
    CodecError,
    date_ms,
    discriminator,
    enum_of,
    join,
    list_of,
    normalise_fields,
    require_object,
    text,
)
from topologies.domain import (
    AtTrigger,
    BlackholeNotification,
    CompositeTask,
    CompositionType,
    ContainerTask,
    CronTrigger,
    MailNotification,
    Notification,
    RunInfo,
    RunState,
    RunType,
    Task,
    TaskRecord,
    TaskState,
    Topology,
    TopologyDetails,
    TopologyState,
    Trigger,
)

JSON = dict[str, Any]


# --- canonical JSON (normalised, not yet validated) -------------------------------------------


def normalise_task(raw: Any, path: str = "task") -> JSON | None:
    if raw is None:
        return None
    body = require_object(raw, path)
    kind = discriminator(body, path, ("CONTAINER_EXECUTION", "COMPOSITE"))
    if kind == "COMPOSITE":
        return _normalise_composite(body, path)
    task: JSON = {"type": kind}
    name = text(body.get("taskName"), join(path, "taskName"))
    if name is not None:
        task["taskName"] = name
    return task | normalise_fields(body, CONTAINER_TASK_FIELDS, path, {})


def _normalise_composite(body: Mapping[str, Any], path: str) -> JSON:
    composition = enum_of("ALL", "ANY", default="ALL")(body.get("compositionType"), path)
    children = list_of(lambda child, where: normalise_task(child, where))(
        body.get("tasks"), join(path, "tasks")
    )
    result: JSON = {"type": "COMPOSITE", "compositionType": composition}
    if children is not None:
        result["tasks"] = children
    return result


def normalise_trigger(raw: Any, path: str = "trigger") -> JSON | None:
    if raw is None:
        return None
    body = require_object(raw, path)
    kind = discriminator(body, path, ("AT", "CRON"))
    if kind == "CRON":
        spec = text(body.get("timeSpec"), join(path, "timeSpec"))
        return {"type": "CRON"} | ({"timeSpec": spec} if spec is not None else {})
    time = date_ms(body.get("time"), join(path, "time"))
    return {"type": "AT"} | ({"time": time} if time is not None else {})


def normalise_notify(raw: Any, path: str = "notify") -> JSON | None:
    if raw is None:
        return None
    body = require_object(raw, path)
    kind = discriminator(body, path, ("MAIL", "BLACKHOLE"))
    if kind == "BLACKHOLE":
        return {"type": "BLACKHOLE"}
    emails = list_of(text)(body.get("emails"), join(path, "emails"))
    return {"type": "MAIL"} | ({"emails": emails} if emails is not None else {})


def normalise_topology(raw: Any) -> JSON:
    """The canonical ``EpochTopology`` JSON of a request body; raises ``CodecError``."""
    body = require_object(raw, "")
    result: JSON = {}
    name = text(body.get("name"), "name")
    parts = {
        "name": name,
        "task": normalise_task(body.get("task")),
        "trigger": normalise_trigger(body.get("trigger")),
        "notify": normalise_notify(body.get("notify")),
    }
    result.update({key: value for key, value in parts.items() if value is not None})
    return result


# --- domain values from canonical JSON --------------------------------------------------------


def task_from_json(canonical: Mapping[str, Any]) -> Task:
    if canonical["type"] == "COMPOSITE":
        children = tuple(task_from_json(child) for child in canonical.get("tasks", []))
        return CompositeTask(children, CompositionType(canonical["compositionType"]))
    spec = {k: v for k, v in canonical.items() if k not in ("type", "taskName")}
    return ContainerTask(canonical.get("taskName"), spec)


def trigger_from_json(canonical: Mapping[str, Any]) -> Trigger:
    if canonical["type"] == "CRON":
        return CronTrigger(canonical.get("timeSpec", ""))
    if "time" not in canonical:
        raise CodecError("trigger.time: missing")
    return AtTrigger(canonical["time"])


def notify_from_json(canonical: Mapping[str, Any] | None) -> Notification | None:
    if canonical is None:
        return None
    if canonical["type"] == "BLACKHOLE":
        return BlackholeNotification()
    return MailNotification(tuple(canonical.get("emails", [])))


def topology_from_json(raw: Any) -> Topology:
    """A ``Topology`` from JSON; missing parts a topology cannot do without raise ``CodecError``."""
    canonical = normalise_topology(raw)
    for required in ("name", "task", "trigger"):
        if required not in canonical:
            raise CodecError(f"{required}: missing")
    return Topology(
        name=canonical["name"],
        task=task_from_json(canonical["task"]),
        trigger=trigger_from_json(canonical["trigger"]),
        notify=notify_from_json(canonical.get("notify")),
    )


def details_from_json(raw: Any) -> TopologyDetails:
    body = require_object(raw, "")
    topology = topology_from_json(body.get("topology"))
    created = _or_default(date_ms(body.get("created"), "created"), 0)
    return TopologyDetails(
        id=text(body.get("id"), "id") or topology.name,
        topology=topology,
        state=TopologyState(enum_of(*TopologyState, default="ACTIVE")(body.get("state"), "state")),
        created=created,
        updated=_or_default(date_ms(body.get("updated"), "updated"), created),
    )


def run_from_json(raw: Any) -> RunInfo:
    body = require_object(raw, "")
    raw_tasks = require_object(body.get("tasks") or {}, "tasks")
    created = _or_default(date_ms(body.get("created"), "created"), 0)
    return RunInfo(
        topology_id=text(body.get("topologyId"), "topologyId") or "",
        run_id=text(body.get("runId"), "runId") or "",
        state=RunState(enum_of(*RunState, default="RUNNING")(body.get("state"), "state")),
        message=text(body.get("message"), "message") or "",
        tasks={
            str(name): _task_record(value, f"tasks.{name}") for name, value in raw_tasks.items()
        },
        run_type=RunType(enum_of(*RunType, default="SCHEDULED")(body.get("runType"), "runType")),
        created=created,
        updated=_or_default(date_ms(body.get("updated"), "updated"), created),
    )


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def _task_record(raw: Any, path: str) -> TaskRecord:
    body = require_object(raw, path)
    state = enum_of(*TaskState, default="PENDING")(body.get("state"), join(path, "state"))
    return TaskRecord(
        task_id=text(body.get("taskId"), join(path, "taskId")) or "",
        state=TaskState(state),
        upstream_id=text(body.get("upstreamId"), join(path, "upstreamId")),
        error_message=text(body.get("errorMessage"), join(path, "errorMessage")),
    )


# --- domain values to JSON ----------------------------------------------------------------------


def task_to_json(task: Task) -> JSON:
    if isinstance(task, CompositeTask):
        return {
            "type": "COMPOSITE",
            "compositionType": task.composition.value,
            "tasks": [task_to_json(child) for child in task.tasks],
        }
    head: JSON = {"type": "CONTAINER_EXECUTION"}
    if task.task_name is not None:
        head["taskName"] = task.task_name
    return head | dict(task.spec)


def trigger_to_json(trigger: Trigger) -> JSON:
    if isinstance(trigger, CronTrigger):
        return {"type": "CRON", "timeSpec": trigger.time_spec}
    return {"type": "AT", "time": trigger.time}


def notify_to_json(notify: Notification) -> JSON:
    if isinstance(notify, BlackholeNotification):
        return {"type": "BLACKHOLE"}
    return {"type": "MAIL", "emails": list(notify.emails)}


def topology_to_json(topology: Topology) -> JSON:
    result: JSON = {
        "name": topology.name,
        "task": task_to_json(topology.task),
        "trigger": trigger_to_json(topology.trigger),
    }
    if topology.notify is not None:
        result["notify"] = notify_to_json(topology.notify)
    return result


def details_to_json(details: TopologyDetails) -> JSON:
    return {
        "id": details.id,
        "topology": topology_to_json(details.topology),
        "state": details.state.value,
        "created": details.created,
        "updated": details.updated,
    }


def task_record_to_json(record: TaskRecord) -> JSON:
    result: JSON = {"taskId": record.task_id, "state": record.state.value}
    if record.upstream_id is not None:
        result["upstreamId"] = record.upstream_id
    if record.error_message is not None:
        result["errorMessage"] = record.error_message
    return result


def run_to_json(run: RunInfo) -> JSON:
    return {
        "topologyId": run.topology_id,
        "runId": run.run_id,
        "state": run.state.value,
        "message": run.message,
        "tasks": {name: task_record_to_json(record) for name, record in run.tasks.items()},
        "runType": run.run_type.value,
        "created": run.created,
        "updated": run.updated,
    }
