"""Canonical JSON of the Drove sub-objects inside a container task (epoch-model.md §4.2)."""

from __future__ import annotations

from typing import Any

from topologies.codec.fields import (
    Schema,
    boolean,
    duration,
    enum_of,
    integer,
    list_of,
    obj,
    one_of,
    text,
    text_map,
)

EXECUTABLE = one_of({"DOCKER": {"url": text, "dockerPullTimeout": duration}}, default_type="DOCKER")

RESOURCE = one_of({"CPU": {"count": integer}, "MEMORY": {"sizeInMB": integer}})

VOLUME = obj(
    {
        "pathInContainer": text,
        "pathOnHost": text,
        "mode": enum_of("READ_WRITE", "READ_ONLY"),
    }
)

HTTP_CALL = obj(
    {
        "protocol": enum_of("HTTP", "HTTPS"),
        "hostname": text,
        "port": integer,
        "path": text,
        "verb": enum_of("GET", "POST", "PUT"),
        "successCodes": list_of(integer),
        "payload": text,
        "connectionTimeout": duration,
        "operationTimeout": duration,
        "username": text,
        "password": text,
        "authHeader": text,
        "headers": text_map,
        "insecure": boolean,
    },
    defaults={
        "path": "/",
        "verb": "GET",
        "successCodes": [200],
        "connectionTimeout": "1 second",
        "operationTimeout": "1 second",
    },
)

_HTTP_FETCH: Schema = {"localFilename": text, "http": HTTP_CALL}

CONFIG = one_of(
    {
        "INLINE": {"localFilename": text, "data": text},
        "EXECUTOR_LOCAL_FILE": {"localFilename": text, "filePathOnHost": text},
        "CONTROLLER_HTTP_FETCH": _HTTP_FETCH,
        "EXECUTOR_HTTP_FETCH": _HTTP_FETCH,
    }
)

LOGGING = one_of(
    {
        "LOCAL": {"maxSize": text, "maxFiles": integer, "compress": boolean},
        "RSYSLOG": {"server": text, "tagPrefix": text, "tagSuffix": text},
    }
)


def placement(value: Any, path: str) -> dict[str, Any] | None:
    """Placement policies nest (``COMPOSITE``), so the schema refers to itself."""
    return _PLACEMENT(value, path)  # type: ignore[no-any-return]


_PLACEMENT = one_of(
    {
        "ANY": {},
        "ONE_PER_HOST": {},
        "NO_TAG": {},
        "MAX_N_PER_HOST": {"max": integer},
        "MATCH_TAG": {"tag": text},
        "RULE_BASED": {"rule": text, "ruleType": enum_of("HOPE", "MVEL")},
        "COMPOSITE": {
            "policies": list_of(placement),
            "combiner": enum_of("AND", "OR", default="AND"),
        },
        "LOCAL": {"hostLevel": boolean},
    }
)

CONTAINER_TASK_FIELDS: Schema = {
    "executable": EXECUTABLE,
    "resources": list_of(RESOURCE),
    "volumes": list_of(VOLUME),
    "configs": list_of(CONFIG),
    "logging": LOGGING,
    "placementPolicy": placement,
    "tags": text_map,
    "env": text_map,
    "args": list_of(text),
}
