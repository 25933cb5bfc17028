"""Drove request bodies built from Epoch's container-task definitions (drove-api.md §4, §6).

Input is a container task in the original Epoch JSON shape (epoch-model.md §4.1) as a plain dict.

Invariants:
* only Drove ``TaskSpec`` fields are sent; Epoch-only keys (``type``, ``taskName``) are not;
* null fields are omitted at every depth, empty lists and maps are kept;
* ``placementPolicy`` defaults to ``{"type": "ANY"}`` (current Drove answers 500 without one) and
  ``devices`` is always ``[]``;
* the input is never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_PLACEMENT: Mapping[str, Any] = {"type": "ANY"}
DEFAULT_OP_SPEC: Mapping[str, Any] = {
    "timeout": "300 seconds",
    "parallelism": 1,
    "failureStrategy": "STOP",
}

# Copied from the definition in Drove's order; "placementPolicy" and "devices" are filled in.
_PASSED_THROUGH = ("executable", "volumes", "configs", "logging", "resources")
_PASSED_AFTER_PLACEMENT = ("tags", "env", "args")


def build_task_spec(task: Mapping[str, Any], task_id: str, app_name: str) -> dict[str, Any]:
    """Drove's ``TaskSpec`` for ``task`` run as ``task_id`` under source app ``app_name``.

    Raises ``ValueError`` when the definition is not a container task Drove could take (no
    ``executable`` or ``resources``); the caller records that as a local start error.
    """
    if not isinstance(task.get("executable"), Mapping) or not task.get("resources"):
        raise ValueError(f"task {task_id} has no executable or no resources")
    spec: dict[str, Any] = {"sourceAppName": app_name, "taskId": task_id}
    spec.update(_present(task, _PASSED_THROUGH))
    spec["executable"] = {"type": "DOCKER", **spec["executable"]}
    spec["placementPolicy"] = without_nulls(task.get("placementPolicy") or DEFAULT_PLACEMENT)
    spec.update(_present(task, _PASSED_AFTER_PLACEMENT))
    spec["devices"] = []
    return spec


def create_operation(spec: Mapping[str, Any], op_spec: Mapping[str, Any]) -> dict[str, Any]:
    """Body of a CREATE; ``op_spec`` is ``drove.clusterOpSpec``."""
    return {"type": "CREATE", "spec": dict(spec), "opSpec": without_nulls(op_spec)}


def kill_operation(app_name: str, task_id: str) -> dict[str, Any]:
    """Body of a KILL; Epoch always kills with the default ``opSpec``."""
    return {
        "type": "KILL",
        "sourceAppName": app_name,
        "taskId": task_id,
        "opSpec": dict(DEFAULT_OP_SPEC),
    }


def without_nulls(value: Any) -> Any:
    """A deep copy of ``value`` with every null map entry and list element left out."""
    if isinstance(value, Mapping):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [without_nulls(item) for item in value if item is not None]
    return value


def _present(task: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: without_nulls(task[key]) for key in keys if task.get(key) is not None}
