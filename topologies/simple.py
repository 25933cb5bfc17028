"""The UI's simple create and edit requests (epoch-model.md §8) and how they become topologies.

Create expands the form into a full single-task topology. Edit changes only what the form shows
(image, CPUs, memory, env, volumes, cron, e-mails) and keeps every other field of the stored task,
which the original silently reset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from topologies.codec.drove_objects import VOLUME
from topologies.codec.fields import integer, list_of, require_object, text, text_map
from topologies.domain import (
    ContainerTask,
    CronTrigger,
    MailNotification,
    Topology,
    TopologyDetails,
)
from topologies.validation import DOCKER_REGEX, EMAILS_REGEX, TOPOLOGY_NAME_REGEX, volume_errors

SIMPLE_TASK_NAME = "docker-task"


class NotEditable(ValueError):
    """The stored topology has a shape the simple form cannot represent."""


@dataclass(frozen=True)
class SimpleRequest:
    name: str | None
    cron: str | None
    docker: str | None
    cpus: int
    memory: int
    notify_email: str | None
    env: dict[str, str] | None
    volumes: list[dict[str, Any]] | None

    @property
    def emails(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in (self.notify_email or "").split(","))


def parse_simple(raw: Any) -> SimpleRequest:
    """Read a simple request body; wrong JSON types raise ``CodecError``."""
    body = require_object(raw, "")
    return SimpleRequest(
        name=text(body.get("name"), "name"),
        cron=text(body.get("cron"), "cron"),
        docker=text(body.get("docker"), "docker"),
        cpus=integer(body.get("cpus"), "cpus") or 0,
        memory=integer(body.get("memory"), "memory") or 0,
        notify_email=text(body.get("notifyEmail"), "notifyEmail"),
        env=text_map(body.get("env"), "env"),
        volumes=list_of(VOLUME)(body.get("volumes"), "volumes"),
    )


def simple_errors(request: SimpleRequest, with_name: bool) -> list[str]:
    errors = _name_errors(request.name) if with_name else []
    if not request.cron:
        errors.append("cron must not be empty")
    errors += _docker_errors(request.docker)
    if not 1 <= request.cpus <= 40:
        errors.append("cpus must be between 1 and 40")
    if not 128 <= request.memory <= 100000:
        errors.append("memory must be between 128 and 100000")
    if request.notify_email is None:
        errors.append("notifyEmail must not be null")
    elif not re.fullmatch(EMAILS_REGEX, request.notify_email):
        errors.append("notifyEmail Invalid email(s) format")
    for index, volume in enumerate(request.volumes or []):
        errors += volume_errors(volume, f"volumes[{index}]")
    return errors


def _name_errors(name: str | None) -> list[str]:
    if not name:
        return ["name must not be empty"]
    errors = (
        []
        if re.fullmatch(TOPOLOGY_NAME_REGEX, name)
        else [f'name must match "{TOPOLOGY_NAME_REGEX}"']
    )
    if len(name) > 255:
        errors.append("name size must be between 1 and 255")
    return errors


def _docker_errors(docker: str | None) -> list[str]:
    if not docker:
        return ["docker must not be empty"]
    errors = [] if re.fullmatch(DOCKER_REGEX, docker) else [f'docker must match "{DOCKER_REGEX}"']
    if len(docker) > 2048:
        errors.append("docker length must be between 0 and 2048")
    return errors


def expand(request: SimpleRequest) -> Topology:
    """The full topology a simple create stands for (§8.3)."""
    spec: dict[str, Any] = {
        "executable": {"type": "DOCKER", "url": request.docker, "dockerPullTimeout": "120 seconds"},
        "resources": [
            {"type": "CPU", "count": request.cpus},
            {"type": "MEMORY", "sizeInMB": request.memory},
        ],
        "volumes": request.volumes,
        "configs": [],
        "logging": {"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
        "placementPolicy": {"type": "ANY"},
        "tags": {},
        "env": request.env,
    }
    return Topology(
        name=request.name or "",
        task=ContainerTask(SIMPLE_TASK_NAME, {k: v for k, v in spec.items() if v is not None}),
        trigger=CronTrigger(request.cron or ""),
        notify=MailNotification(request.emails),
    )


def apply_edit(details: TopologyDetails, request: SimpleRequest) -> Topology:
    """The stored topology with only the form's fields changed (lossless edit, §8.3)."""
    task = details.topology.task
    if not isinstance(task, ContainerTask):
        raise NotEditable("task")
    spec = dict(task.spec)
    executable = dict(
        spec.get("executable") or {"type": "DOCKER", "dockerPullTimeout": "120 seconds"}
    )
    spec["executable"] = {**executable, "url": request.docker}
    spec["resources"] = _edited_resources(spec.get("resources") or [], request)
    spec["env"] = request.env or {}
    spec["volumes"] = request.volumes or []
    return replace(
        details.topology,
        task=replace(task, spec=spec),
        trigger=CronTrigger(request.cron or ""),
        notify=MailNotification(request.emails),
    )


def _edited_resources(
    resources: list[dict[str, Any]], request: SimpleRequest
) -> list[dict[str, Any]]:
    wanted = {"CPU": ("count", request.cpus), "MEMORY": ("sizeInMB", request.memory)}
    edited = [
        {**resource, wanted[resource["type"]][0]: wanted[resource["type"]][1]}
        if resource.get("type") in wanted
        else resource
        for resource in resources
    ]
    present = {resource.get("type") for resource in resources}
    edited += [
        {"type": kind, key: value} for kind, (key, value) in wanted.items() if kind not in present
    ]
    return edited
