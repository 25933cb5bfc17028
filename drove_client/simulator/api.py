"""Drove's task API as one simulated controller serves it (drove-api.md §2-§5).

``DroveApi.answer`` applies Drove's processing order: route (404/405, 415) -> credentials (401) ->
role (403) -> leadership (400 "not the leader") -> body parsing and bean validation -> maintenance
-> engine checks -> the operation. Anything unexpected is a 500 "Unexpected Server error".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from drove_client.simulator import wire
from drove_client.simulator.auth import FORBIDDEN, UNAUTHORIZED, Identity, identify
from drove_client.simulator.engine import ServerError
from drove_client.simulator.settings import SimSettings
from drove_client.simulator.store import Rejected, TaskStore
from drove_client.simulator.validation import (
    BeanFailure,
    JsonFailure,
    Operation,
    parse_operation,
    parse_task_spec,
)
from drove_client.simulator.wire import Answer

log = logging.getLogger(__name__)

MAINTENANCE = "Cluster is in maintenance mode"
Parsed = TypeVar("Parsed")


class Leadership(Protocol):
    """What the API needs to know about the simulated controllers."""

    def is_leader(self, controller: int) -> bool: ...

    def leader_address(self) -> str | None: ...


@dataclass(frozen=True)
class Request:
    controller: int
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


Handler = Callable[[Request, tuple[str, ...]], Answer]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: Mapping[str, Handler]
    operation: bool = False  # needs a READ_WRITE or ROOT user


class DroveApi:
    def __init__(self, store: TaskStore, settings: SimSettings, leadership: Leadership) -> None:
        self.store = store
        self.settings = settings
        self.leadership = leadership
        app_task = r"/apis/v1/tasks/([^/]+)/instances/([^/]+)"
        self.routes = (
            Route(re.compile(r"/apis/v1/tasks/operations"), {"POST": self._operation}, True),
            Route(re.compile(app_task), {"GET": self._read, "DELETE": self._delete}),
            Route(re.compile(r"/apis/v1/ping"), {"GET": self._ping}),
            Route(re.compile(r"/apis/v1/tasks"), {"GET": self._list}),
            Route(re.compile(r"/apis/v1/tasks/validate/spec"), {"POST": self._validate}),
            Route(re.compile(r"/apis/v1/cluster"), {"GET": self._cluster}),
        )

    def answer(self, request: Request) -> Answer:
        route, match = self._route(request.path)
        if route is None or match is None:
            return wire.empty(404)
        handler = route.methods.get(request.method)
        if handler is None:
            return wire.empty(405)
        if request.method == "POST" and not _is_json(request.headers.get("Content-Type")):
            return wire.empty(415)
        refusal = self._refusal(request, route)
        if refusal is not None:
            return refusal
        try:
            return handler(request, tuple(unquote(group) for group in match.groups()))
        except ServerError as error:
            return wire.server_error(str(error))
        except Exception as error:  # Drove maps every unhandled exception to this 500
            log.exception("Simulated controller failed on %s %s", request.method, request.path)
            return wire.server_error(str(error))

    def _route(self, path: str) -> tuple[Route | None, re.Match[str] | None]:
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is not None:
                return route, match
        return None, None

    def _refusal(self, request: Request, route: Route) -> Answer | None:
        identity: Identity | None = identify(request.headers.get("Authorization"), self.settings)
        if identity is None:
            return UNAUTHORIZED
        if route.operation and not identity.may_run_operations:
            return FORBIDDEN
        if not self.leadership.is_leader(request.controller):
            return wire.not_leader()
        return None

    # --- endpoints ------------------------------------------------------------------------------

    def _accepted(self, parse: Callable[[bytes], Parsed], body: bytes) -> Parsed | Answer:
        """The parsed body of a command, or the answer refusing it (bad JSON or fields, or the
        cluster in maintenance)."""
        try:
            parsed = parse(body)
        except JsonFailure as error:
            return wire.json_validation_failure(str(error))
        except BeanFailure as error:
            return self._invalid(error.errors)
        if self.settings.maintenance:
            return self._invalid([MAINTENANCE])
        return parsed

    def _operation(self, request: Request, _: tuple[str, ...]) -> Answer:
        operation = self._accepted(parse_operation, request.body)
        if not isinstance(operation, Operation):
            return operation
        if operation.type == "KILL":
            return self._kill(operation)
        try:
            self.store.create(operation.spec)
        except Rejected as rejection:
            return self._invalid(rejection.errors)
        return wire.success({"taskId": f"{operation.app}-{operation.task_id}"})

    def _kill(self, operation: Operation) -> Answer:
        if self.store.kill(operation.app, operation.task_id):
            return wire.success({"taskId": operation.task_id})
        return self._invalid(
            [
                "Either task does not exist or has already finished for "
                f"{operation.app}/{operation.task_id}"
            ]
        )

    def _invalid(self, errors: list[str]) -> Answer:
        # Some Drove builds answer every command validation failure 422 {"errors": [...]}.
        return wire.command_validation_failure(errors, self.settings.validation_status)

    def _read(self, _: Request, ids: tuple[str, ...]) -> Answer:
        app, task_id = ids
        record = self.store.record(app, task_id)
        if record is None:
            return wire.failed(200, f"No such task instance {app}/{task_id}")
        return wire.success(record)

    def _delete(self, _: Request, ids: tuple[str, ...]) -> Answer:
        app, task_id = ids
        if self.store.delete(app, task_id):
            return wire.success({"deleted": True})
        return wire.failed(200, f"Could not delete {app}/{task_id}", {"deleted": False})

    def _ping(self, _: Request, __: tuple[str, ...]) -> Answer:
        return wire.success("pong")

    def _list(self, _: Request, __: tuple[str, ...]) -> Answer:
        return wire.success(self.store.listed())

    def _validate(self, request: Request, _: tuple[str, ...]) -> Answer:
        spec = self._accepted(parse_task_spec, request.body)
        if not isinstance(spec, dict):
            return spec
        errors = self.store.check_spec(spec)
        return self._invalid(errors) if errors else wire.success()

    def _cluster(self, _: Request, __: tuple[str, ...]) -> Answer:
        return wire.success(self._cluster_summary())

    def _cluster_summary(self) -> dict[str, Any]:
        cluster, settings = self.store.cluster, self.settings
        free_cores, free_memory = cluster.free_cores(), cluster.free_memory()
        return {
            "leader": self.leadership.leader_address() or "Leader election underway",
            "state": "MAINTENANCE" if settings.maintenance else "NORMAL",
            "numExecutors": -(-settings.cpus // settings.cores_per_node),
            "numApplications": 0,
            "numActiveApplications": 0,
            "freeCores": free_cores,
            "usedCores": settings.cpus - free_cores,
            "totalCores": settings.cpus,
            "freeMemory": free_memory,
            "usedMemory": settings.memory_mb - free_memory,
            "totalMemory": settings.memory_mb,
        }


def _is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "application/json"
