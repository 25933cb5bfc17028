"""Validation of API input (epoch-model.md §3–§8), on the codec's canonical JSON.

Each problem is reported as ``"<json path> <message>"`` with the original's messages; all problems
are collected. Stored data is never validated (readers are lenient). Cron syntax is checked
separately, after these rules, as the API answers it with its own error code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

TOPOLOGY_NAME_REGEX = r"[0-9a-zA-Z_-]+"
TASK_NAME_REGEX = r"[a-zA-Z0-9_-]+"
EMAIL_REGEX = r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,6}"
EMAILS_REGEX = rf"^{EMAIL_REGEX}(,\s*{EMAIL_REGEX})*$"
DOCKER_REGEX = (
    r"^(?:(?=[^:\/]{4,253})(?!-)[a-zA-Z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-zA-Z0-9-]{1,63}(?<!-))*"
    r"(?::[0-9]{1,5})?/)?((?![._-])(?:[a-z0-9._-]*)(?<![._-])(?:/(?![._-])[a-z0-9._-]*(?<![._-]))*)"
    r"(?::(?![.-])[a-zA-Z0-9_.-]{1,128})?$"
)
# A lenient RFC 5322 addr-spec: dot-atom local part, a domain of labels (no TLD rule).
_ADDR_SPEC = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
MAX_ARGS = 2048
JSON = Mapping[str, Any]


def is_email(text: str) -> bool:
    return bool(_ADDR_SPEC.fullmatch(text))


def topology_errors(body: JSON) -> list[str]:
    """Every problem of a full ``EpochTopology`` body."""
    errors = list(_name_errors(body.get("name")))
    task = body.get("task")
    if task is None:
        errors.append("task must not be null")
    else:
        errors += task_errors(task, "task")
        errors += _unique_task_names(task)
    errors += _trigger_errors(body.get("trigger"))
    if body.get("notify") is not None:
        errors += _notify_errors(body["notify"])
    return errors


def _name_errors(name: Any) -> Iterator[str]:
    if not name:
        yield "name - Please provide an understandable name for the topology"
        return
    if not re.fullmatch(TOPOLOGY_NAME_REGEX, name):
        yield "name - Only alphanumeric - and _ allowed"
    if len(name) > 255:
        yield "name - Min length is 1, max 255"


def task_errors(task: JSON, path: str) -> list[str]:
    if task["type"] == "COMPOSITE":
        children = task.get("tasks") or []
        errors = [] if children else [f"{path}.tasks must not be empty"]
        for index, child in enumerate(children):
            errors += task_errors(child, f"{path}.tasks[{index}]")
        return errors
    return _container_errors(task, path)


def _container_errors(task: JSON, path: str) -> list[str]:
    errors = list(_task_name_errors(task.get("taskName"), f"{path}.taskName"))
    errors += _executable_errors(task.get("executable"), f"{path}.executable")
    errors += _resource_errors(task.get("resources"), f"{path}.resources")
    errors += _each(task.get("volumes"), f"{path}.volumes", volume_errors)
    errors += _each(task.get("configs"), f"{path}.configs", _config_errors)
    if task.get("logging") is not None:
        errors += _logging_errors(task["logging"], f"{path}.logging")
    if task.get("placementPolicy") is not None:
        errors += _placement_errors(task["placementPolicy"], f"{path}.placementPolicy")
    errors += _args_errors(task.get("args") or [], f"{path}.args")
    return errors


def _task_name_errors(name: Any, path: str) -> Iterator[str]:
    if not name:
        yield f"{path} must not be empty"
    elif not re.fullmatch(TASK_NAME_REGEX, name):
        yield f'{path} must match "{TASK_NAME_REGEX}"'


def _unique_task_names(task: JSON) -> list[str]:
    seen: set[str] = set()
    errors = []
    for path, name in _named_containers(task, "task"):
        if name in seen:
            errors.append(f"{path}.taskName must be unique within the topology")
        seen.add(name)
    return errors


def _named_containers(task: JSON, path: str) -> Iterator[tuple[str, str]]:
    if task["type"] == "COMPOSITE":
        for index, child in enumerate(task.get("tasks") or []):
            yield from _named_containers(child, f"{path}.tasks[{index}]")
    elif task.get("taskName"):
        yield path, task["taskName"]


def _executable_errors(executable: JSON | None, path: str) -> list[str]:
    if executable is None:
        return [f"{path.rsplit('.', 1)[0]}.executable - Executable details is required"]
    errors = []
    if not executable.get("url"):
        errors.append(f"{path}.url must not be empty")
    if executable.get("dockerPullTimeout") is None:
        errors.append(f"{path}.dockerPullTimeout must not be null")
    return errors


def _resource_errors(resources: list[JSON] | None, path: str) -> list[str]:
    if not resources:
        return [f"{path} - CPU/Memory requirements must be specified"]
    errors = []
    for index, resource in enumerate(resources):
        key = "count" if resource["type"] == "CPU" else "sizeInMB"
        value = resource.get(key)
        if value is None or value < 1:
            errors.append(f"{path}[{index}].{key} must be at least 1")
    kinds = [resource["type"] for resource in resources]
    errors += [
        f"{path} must not hold more than one {k} entry"
        for k in ("CPU", "MEMORY")
        if kinds.count(k) > 1
    ]
    return errors


def volume_errors(volume: JSON, path: str) -> list[str]:
    errors = [
        f"{path}.{key} must not be empty"
        for key in ("pathInContainer", "pathOnHost")
        if not volume.get(key)
    ]
    if volume.get("mode") is None:
        errors.append(f"{path}.mode must not be null")
    return errors


def _config_errors(config: JSON, path: str) -> list[str]:
    required = {
        "INLINE": ("localFilename", "data"),
        "EXECUTOR_LOCAL_FILE": ("localFilename", "filePathOnHost"),
    }.get(config["type"], ("localFilename",))
    errors = [f"{path}.{key} must not be empty" for key in required if not config.get(key)]
    if config["type"].endswith("HTTP_FETCH"):
        errors += _http_errors(config.get("http"), f"{path}.http")
    return errors


def _http_errors(http: JSON | None, path: str) -> list[str]:
    if http is None:
        return [f"{path} must not be null"]
    errors = [] if http.get("hostname") else [f"{path}.hostname must not be empty"]
    if http.get("protocol") is None:
        errors.append(f"{path}.protocol must not be null")
    port = http.get("port")
    if port is not None and not 0 <= port <= 65535:
        errors.append(f"{path}.port must be between 0 and 65535")
    return errors


def _logging_errors(logging: JSON, path: str) -> list[str]:
    if logging["type"] == "RSYSLOG":
        return [] if logging.get("server") else [f"{path}.server must not be empty"]
    errors = [] if logging.get("maxSize") else [f"{path}.maxSize must not be empty"]
    if not 1 <= (logging.get("maxFiles") or 0) <= 100:
        errors.append(f"{path}.maxFiles must be between 1 and 100")
    return errors


def _placement_errors(policy: JSON, path: str) -> list[str]:
    kind = policy["type"]
    if kind == "MAX_N_PER_HOST" and not 1 <= (policy.get("max") or 0) <= 64:
        return [f"{path}.max must be between 1 and 64"]
    if kind in ("MATCH_TAG", "RULE_BASED"):
        key = "tag" if kind == "MATCH_TAG" else "rule"
        return [] if policy.get(key) else [f"{path}.{key} must not be empty"]
    if kind == "LOCAL":
        return [f"{path} LOCAL placement is not allowed for tasks"]
    if kind == "COMPOSITE":
        policies = policy.get("policies") or []
        errors = [] if policies else [f"{path}.policies must not be empty"]
        for index, child in enumerate(policies):
            errors += _placement_errors(child, f"{path}.policies[{index}]")
        return errors
    return []


def _args_errors(args: list[str], path: str) -> list[str]:
    if len(args) > MAX_ARGS:
        return [f"{path} size must be between 0 and {MAX_ARGS}"]
    if len(" ".join(args)) > MAX_ARGS:
        return [f"{path} combined length must not exceed {MAX_ARGS}"]
    return []


def _trigger_errors(trigger: JSON | None) -> list[str]:
    if trigger is None:
        return ["trigger must not be null"]
    if trigger["type"] == "CRON":
        return [] if trigger.get("timeSpec") else ["trigger.timeSpec must not be empty"]
    return [] if trigger.get("time") is not None else ["trigger.time must not be null"]


def _notify_errors(notify: JSON) -> list[str]:
    if notify["type"] == "BLACKHOLE":
        return []
    emails = notify.get("emails") or []
    if not emails:
        return ["notify.emails must not be empty"]
    return [
        f"notify.emails[{index}] must be a well-formed email address"
        for index, address in enumerate(emails)
        if not is_email(address)
    ]


def _each(
    items: list[JSON] | None, path: str, check: Callable[[JSON, str], list[str]]
) -> list[str]:
    return [
        error for index, item in enumerate(items or []) for error in check(item, f"{path}[{index}]")
    ]
