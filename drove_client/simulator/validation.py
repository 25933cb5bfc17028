"""Parsing and bean validation of Drove request bodies, with Drove's two failure kinds (§3, §6).

* ``JsonFailure``: the body cannot be read at all (not JSON, missing or unknown ``type``, a bare
  number as duration, an unknown enum value, a wrong JSON type) -> 400 "JSON validation failure"
  with the parser's one message. Parsing stops at the first such problem, as Jackson does.
* ``BeanFailure``: the body was read but breaks field rules -> 400 "Command validation failure"
  with every violation as ``"<path> <message>"``, collected over the whole body.

The parsed ``TaskSpec`` is returned normalised the way Drove echoes it back: durations as
``"<count> <unit>"``, enum values upper-case, unknown keys dropped, null fields omitted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drove_client.simulator.fields import (
    MUST_NOT_BE_EMPTY,
    BeanFailure,
    Fields,
    JsonFailure,
    compact,
    list_at,
    prefix,
    put,
    string_map,
    typed,
    unknown_type,
    wrong_type,
)

__all__ = ["BeanFailure", "JsonFailure", "Operation", "parse_operation", "parse_task_spec"]


@dataclass(frozen=True)
class Operation:
    type: str  # CREATE or KILL
    app: str
    task_id: str
    spec: dict[str, Any] = field(default_factory=dict)  # CREATE only, normalised
    op_spec: dict[str, Any] = field(default_factory=dict)


def parse_operation(body: bytes) -> Operation:
    """A task operation (``POST /apis/v1/tasks/operations``)."""
    raw = typed(_json(body), "", "operation.TaskOperation", ("CREATE", "KILL"))
    fields = Fields()
    op_spec = fields.child(raw, "opSpec", "opSpec", _op_spec)
    if raw["type"] == "KILL":
        app = fields.text(raw, "sourceAppName", "sourceAppName")
        task_id = fields.text(raw, "taskId", "taskId")
        fields.raise_if_any()
        return Operation("KILL", app or "", task_id or "", op_spec=op_spec or {})
    spec = fields.child(raw, "spec", "spec", _task_spec)
    fields.raise_if_any()
    assert spec is not None  # a missing spec is a violation, raised just above
    return Operation("CREATE", spec["sourceAppName"], spec["taskId"], spec, op_spec or {})


def parse_task_spec(body: bytes) -> dict[str, Any]:
    """A bare ``TaskSpec`` (``POST /apis/v1/tasks/validate/spec``)."""
    raw = _json(body)
    if not isinstance(raw, Mapping):
        raise JsonFailure(wrong_type("task.TaskSpec", raw))
    fields = Fields()
    spec = _task_spec(fields, raw, "")
    fields.raise_if_any()
    return spec


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise JsonFailure(f"Unable to process JSON: {error}") from error


def _task_spec(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    at = prefix(path)
    spec: dict[str, Any] = {
        "sourceAppName": fields.task_id(raw, "sourceAppName", at + "sourceAppName"),
        "taskId": fields.task_id(raw, "taskId", at + "taskId"),
    }
    put(spec, "executable", fields.child(raw, "executable", at + "executable", _executable))
    put(spec, "volumes", fields.items(raw, "volumes", at + "volumes", _volume))
    put(spec, "configs", fields.items(raw, "configs", at + "configs", _config))
    if raw.get("logging") is not None:
        put(spec, "logging", fields.child(raw, "logging", at + "logging", _logging))
    resources = fields.items(raw, "resources", at + "resources", _resource)
    if not resources:
        fields.violation(at + "resources", MUST_NOT_BE_EMPTY)
    put(spec, "resources", resources)
    if raw.get("placementPolicy") is not None:
        put(
            spec,
            "placementPolicy",
            fields.child(raw, "placementPolicy", at + "placementPolicy", _placement),
        )
    put(spec, "tags", string_map(raw.get("tags"), at + "tags"))
    put(spec, "env", string_map(raw.get("env"), at + "env"))
    put(spec, "args", _args(fields, raw.get("args"), at + "args"))
    put(spec, "devices", list_at(raw.get("devices"), at + "devices"))
    if raw.get("userSpec") is not None:
        put(spec, "userSpec", fields.child(raw, "userSpec", at + "userSpec", _user_spec))
    return spec


def _executable(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    if raw.get("type", "DOCKER") != "DOCKER":
        raise JsonFailure(
            unknown_type(
                raw.get("type"), "application.executable.ExecutableCoordinates", ("DOCKER",)
            )
        )
    return compact(
        type="DOCKER",
        url=fields.text(raw, "url", path + ".url"),
        dockerPullTimeout=fields.duration(raw, "dockerPullTimeout", path + ".dockerPullTimeout"),
    )


def _volume(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    return compact(
        pathInContainer=fields.text(raw, "pathInContainer", path + ".pathInContainer"),
        pathOnHost=fields.text(raw, "pathOnHost", path + ".pathOnHost"),
        mode=fields.enum(raw, "mode", path + ".mode", ("READ_WRITE", "READ_ONLY")),
    )


def _config(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    kinds = ("INLINE", "EXECUTOR_LOCAL_FILE", "CONTROLLER_HTTP_FETCH", "EXECUTOR_HTTP_FETCH")
    kind = typed(raw, path, "config.ConfigSpec", kinds)["type"]
    config = compact(
        type=kind, localFilename=fields.text(raw, "localFilename", path + ".localFilename")
    )
    if kind == "INLINE":
        put(config, "data", _base64(fields, raw, path + ".data"))
    elif kind == "EXECUTOR_LOCAL_FILE":
        put(config, "filePathOnHost", fields.text(raw, "filePathOnHost", path + ".filePathOnHost"))
    else:
        put(config, "http", fields.child(raw, "http", path + ".http", _http_spec))
    return config


def _http_spec(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    fields.text(raw, "hostname", path + ".hostname")
    fields.integer(raw, "port", path + ".port", 0, 65535)
    return {k: v for k, v in raw.items() if v is not None}


def _base64(fields: Fields, raw: Mapping[str, Any], path: str) -> str | None:
    data = fields.text(raw, "data", path)
    try:
        base64.b64decode(data or "", validate=True)
    except (binascii.Error, ValueError) as error:
        raise JsonFailure(
            f"Cannot deserialize value of type `byte[]` from String: {error}"
        ) from error
    return data


def _logging(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = typed(raw, path, "logging.LoggingSpec", ("LOCAL", "RSYSLOG"))["type"]
    if kind == "RSYSLOG":
        return compact(
            type=kind,
            server=fields.text(raw, "server", path + ".server"),
            tagPrefix=fields.text(raw, "tagPrefix", path + ".tagPrefix", required=False),
            tagSuffix=fields.text(raw, "tagSuffix", path + ".tagSuffix", required=False),
        )
    return compact(
        type=kind,
        maxSize=fields.text(raw, "maxSize", path + ".maxSize"),
        maxFiles=fields.integer(raw, "maxFiles", path + ".maxFiles", 1, 100),
        compress=bool(raw.get("compress", False)),
    )


def _resource(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = typed(raw, path, "application.requirements.ResourceRequirement", ("CPU", "MEMORY"))[
        "type"
    ]
    key = "count" if kind == "CPU" else "sizeInMB"
    amount = fields.integer(raw, key, f"{path}.{key}", 1)
    if amount is None:
        fields.violation(f"{path}.{key}", "must be greater than or equal to 1")
    return compact(type=kind, **{key: amount})


_PLACEMENTS = (
    "ANY",
    "ONE_PER_HOST",
    "MAX_N_PER_HOST",
    "MATCH_TAG",
    "NO_TAG",
    "RULE_BASED",
    "COMPOSITE",
    "LOCAL",
)


def _placement(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = typed(raw, path, "application.placement.PlacementPolicy", _PLACEMENTS)["type"]
    policy: dict[str, Any] = {"type": kind}
    if kind == "MAX_N_PER_HOST":
        put(policy, "max", fields.integer(raw, "max", path + ".max", 1, 64))
    elif kind == "MATCH_TAG":
        put(policy, "tag", fields.text(raw, "tag", path + ".tag"))
    elif kind == "RULE_BASED":
        put(policy, "rule", fields.text(raw, "rule", path + ".rule"))
        put(policy, "ruleType", fields.enum(raw, "ruleType", path + ".ruleType", ("HOPE", "MVEL")))
    elif kind == "COMPOSITE":
        children = fields.items(raw, "policies", path + ".policies", _placement)
        if not children:
            fields.violation(path + ".policies", MUST_NOT_BE_EMPTY)
        put(policy, "policies", children)
        put(policy, "combiner", fields.enum(raw, "combiner", path + ".combiner", ("AND", "OR")))
    elif kind == "LOCAL":
        policy["hostLevel"] = bool(raw.get("hostLevel", False))
    return policy


def _user_spec(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    return compact(
        user=fields.text(raw, "user", path + ".user"),
        group=fields.text(raw, "group", path + ".group", required=False),
    )


def _op_spec(fields: Fields, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    parallelism = fields.integer(raw, "parallelism", path + ".parallelism", 1, 512)
    if parallelism is None:
        fields.violation(path + ".parallelism", "must be greater than or equal to 1")
    return compact(
        timeout=fields.duration(raw, "timeout", path + ".timeout"),
        parallelism=parallelism,
        failureStrategy=fields.enum(
            raw, "failureStrategy", path + ".failureStrategy", ("STOP", "ROLLBACK")
        ),
    )


def _args(fields: Fields, value: Any, path: str) -> list[str] | None:
    args = list_at(value, path)
    if args is not None and len(args) > 2048:
        fields.violation(path, "size must be between 0 and 2048")
    return None if args is None else [str(a) for a in args]
