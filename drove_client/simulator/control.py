"""The simulator's control interface under ``/_sim`` (never under ``/apis``): plain JSON in and out.

| method and path | body / query | effect |
|---|---|---|
| GET /_sim/state | | leader, controllers, maintenance, faults, task counts, timing |
| GET, DELETE /_sim/requests | ``?method=&path=`` | logged ``/apis`` requests (oldest first) / forget them |
| GET /_sim/tasks, GET /_sim/tasks/{app}/{id} | | records plus simulator-only fields |
| POST /_sim/tasks | ``{sourceAppName, taskId, state, taskResult?, errorMessage?, runner?, hold?, spec?}`` | seed a task in a state |
| DELETE /_sim/tasks | | forget every task |
| POST /_sim/tasks/{app}/{id}/state | ``{state, taskResult?, errorMessage?, hold?}`` | force the task's next state now |
| POST /_sim/tasks/{app}/{id}/forget | ``{record?: true, runner?: true}`` | drop the record and/or the runner |
| POST /_sim/maintenance | ``{enabled}`` | maintenance mode |
| GET, POST, DELETE /_sim/faults | fault (see ``faults.py``), or ``{mode: "refuse", controller?, for?}`` | inject / list / clear (DELETE also reopens refused controllers) |
| POST /_sim/leader | ``{index}`` (null: election underway) | switch leadership |
| POST /_sim/settings | any ``SimSettings`` field | change timing, capacity and switches |
| POST /_sim/retention | | run the retention sweep now |
| POST /_sim/reset | | forget tasks, requests and faults; controller 0 leads; maintenance off |
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from drove_client.simulator import wire
from drove_client.simulator.faults import Fault, seconds
from drove_client.simulator.lifecycle import STATES, SimTask
from drove_client.simulator.settings import SimSettings, SimUser
from drove_client.simulator.wire import Answer

if TYPE_CHECKING:
    from drove_client.simulator.server import DroveSimulator

Query = Mapping[str, list[str]]
_TASK_PATH = re.compile(r"/_sim/tasks/([^/]+)/([^/]+)(?:/(state|forget))?")
_SETTING_TYPES = {f.name: f.type for f in dataclasses.fields(SimSettings)}


class ControlError(ValueError):
    """A control request that cannot be carried out; answered 400 with the reason."""


def minimal_spec(app: str, task_id: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A small valid ``TaskSpec`` for seeded tasks; ``extra`` fields override it."""
    spec: dict[str, Any] = {
        "sourceAppName": app,
        "taskId": task_id,
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/appform-io/test-task",
            "dockerPullTimeout": "100 seconds",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 512}],
        "placementPolicy": {"type": "ANY"},
    }
    spec.update(extra or {})
    spec.update(sourceAppName=app, taskId=task_id)
    return spec


def task_view(simulator: DroveSimulator, task: SimTask) -> dict[str, Any]:
    view = task.to_json()
    view["_sim"] = {
        "recorded": task.recorded,
        "runner": simulator.store.has_runner(task),
        "outcome": task.script.outcome,
        "zombie": task.zombie,
        "held": task.held,
        "history": list(task.history),
    }
    return view


class Control:
    def __init__(self, simulator: DroveSimulator) -> None:
        self.simulator = simulator
        self._routes: dict[tuple[str, str], Callable[[Any], Any]] = {
            ("GET", "/_sim/state"): lambda _: self.state(),
            ("GET", "/_sim/requests"): lambda q: {"requests": self._requests(q)},
            ("DELETE", "/_sim/requests"): lambda _: {"cleared": simulator.clear_requests()},
            ("GET", "/_sim/tasks"): lambda _: {"tasks": self._tasks()},
            ("POST", "/_sim/tasks"): self.seed,
            ("DELETE", "/_sim/tasks"): lambda _: self._clear_tasks(),
            ("POST", "/_sim/maintenance"): self.maintenance,
            ("GET", "/_sim/faults"): lambda _: self._faults(),
            ("DELETE", "/_sim/faults"): self.clear_faults,
            ("POST", "/_sim/leader"): self.leader,
            ("POST", "/_sim/settings"): self.update_settings,
            ("POST", "/_sim/retention"): lambda _: {"deleted": simulator.store.sweep()},
            ("POST", "/_sim/reset"): lambda _: self.reset(),
        }

    def answer(
        self,
        method: str,
        path: str,
        query: Query,
        body: bytes,
        controller: int,
        connection: socket.socket | None = None,
    ) -> Answer:
        try:
            return wire.control_json(self._dispatch(method, path, query, body, connection))
        except ControlError as error:
            return wire.control_json({"error": str(error)}, 400)
        except LookupError as error:
            return wire.control_json({"error": str(error)}, 404)

    def _dispatch(
        self, method: str, path: str, query: Query, body: bytes, connection: socket.socket | None
    ) -> Any:
        if (method, path) == ("POST", "/_sim/faults"):
            return self.add_fault(_json_body(body), connection)
        route = self._routes.get((method, path.rstrip("/")))
        if route is not None:
            return route(query if method in ("GET", "DELETE") else _json_body(body))
        match = _TASK_PATH.fullmatch(path)
        if match is None:
            raise LookupError(f"no control endpoint {method} {path}")
        task = self._task(unquote(match.group(1)), unquote(match.group(2)))
        action = match.group(3)
        if action is None and method == "GET":
            return task_view(self.simulator, task)
        if action == "state" and method == "POST":
            return self.force(task, _json_body(body))
        if action == "forget" and method == "POST":
            return self.forget(task, _json_body(body))
        raise LookupError(f"no control endpoint {method} {path}")

    # --- endpoints ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        simulator, settings = self.simulator, self.simulator.settings
        return {
            "leader": simulator.leader,
            "controllers": [
                {"index": c.index, "url": c.url, "listening": c.listening}
                for c in simulator.controllers
            ],
            "maintenance": settings.maintenance,
            "faults": self._faults()["faults"],
            "counts": simulator.store.counts(),
            "auth": bool(settings.users),
            "stepSeconds": settings.step_s,
            "runSeconds": settings.run_s,
        }

    def seed(self, body: Mapping[str, Any]) -> dict[str, Any]:
        app, task_id = _required(body, "sourceAppName"), _required(body, "taskId")
        state = _state(body)
        spec = minimal_spec(app, task_id, body.get("spec"))
        task = self.simulator.store.seed(
            spec,
            state,
            result=body.get("taskResult"),
            error_message=str(body.get("errorMessage") or ""),
            runner=bool(body.get("runner", True)),
            hold=bool(body.get("hold", False)),
        )
        return task_view(self.simulator, task)

    def force(self, task: SimTask, body: Mapping[str, Any]) -> dict[str, Any]:
        message = body.get("errorMessage")
        self.simulator.store.force(
            task,
            _state(body),
            result=body.get("taskResult"),
            error_message=None if message is None else str(message),
            hold=bool(body.get("hold", False)),
        )
        return task_view(self.simulator, task)

    def forget(self, task: SimTask, body: Mapping[str, Any]) -> dict[str, Any]:
        record, runner = bool(body.get("record", True)), bool(body.get("runner", True))
        self.simulator.store.forget(task, record=record, runner=runner)
        return {"record": record, "runner": runner}

    def maintenance(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.simulator.settings.maintenance = bool(body.get("enabled", True))
        return {"maintenance": self.simulator.settings.maintenance}

    def add_fault(
        self, body: Mapping[str, Any], connection: socket.socket | None
    ) -> dict[str, Any]:
        if body.get("mode") == "refuse":
            controller = None if body.get("controller") is None else int(body["controller"])
            for_s = None if body.get("for") is None else _seconds(body["for"])
            self.simulator.refuse(controller, for_s=for_s, keep=connection)
            return self.state()
        try:
            fault = Fault.from_json(body)
        except (ValueError, TypeError) as error:
            raise ControlError(str(error)) from error
        self.simulator.add_fault(fault)
        return fault.to_json()

    def clear_faults(self, query: Query) -> dict[str, Any]:
        controller = query.get("controller", [None])[0]
        self.simulator.faults.clear()
        self.simulator.restore(None if controller is None else int(controller))
        return self.state()

    def leader(self, body: Mapping[str, Any]) -> dict[str, Any]:
        index = body.get("index")
        try:
            self.simulator.set_leader(None if index is None else int(index))
        except ValueError as error:
            raise ControlError(str(error)) from error
        return {"leader": self.simulator.leader, "address": self.simulator.leader_address()}

    def update_settings(self, body: Mapping[str, Any]) -> dict[str, Any]:
        settings = self.simulator.settings
        for name, value in body.items():
            setattr(settings, name, _setting(name, value))
        return {name: _plain(getattr(settings, name)) for name in body}

    def reset(self) -> dict[str, Any]:
        simulator = self.simulator
        simulator.store.clear()
        simulator.clear_requests()
        simulator.faults.clear()
        simulator.restore()
        simulator.settings.maintenance = False
        simulator.set_leader(0)
        return self.state()

    # --- helpers ------------------------------------------------------------------------------

    def _requests(self, query: Query) -> list[dict[str, Any]]:
        method = query.get("method", [None])[0]
        path = query.get("path", [None])[0]
        return self.simulator.requests(method=method, path=path)

    def _tasks(self) -> list[dict[str, Any]]:
        return [task_view(self.simulator, t) for t in self.simulator.store.tasks()]

    def _task(self, app: str, task_id: str) -> SimTask:
        task = self.simulator.store.task(app, task_id)
        if task is None:
            raise LookupError(f"no simulated task {app}/{task_id}")
        return task

    def _clear_tasks(self) -> dict[str, Any]:
        count = len(self.simulator.store.tasks())
        self.simulator.store.clear()
        return {"cleared": count}

    def _faults(self) -> dict[str, Any]:
        return {"faults": [f.to_json() for f in self.simulator.faults.active()]}


def _json_body(body: bytes) -> Mapping[str, Any]:
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError as error:
        raise ControlError(f"body is not JSON: {error}") from error
    if not isinstance(parsed, Mapping):
        raise ControlError("body must be a JSON object")
    return parsed


def _required(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} is required")
    return value


def _state(body: Mapping[str, Any]) -> str:
    state = str(body.get("state") or "").upper()
    if state not in STATES:
        raise ControlError(f"state must be one of {sorted(STATES)}, got {body.get('state')!r}")
    return state


def _seconds(value: Any) -> float:
    try:
        return seconds(value)
    except ValueError as error:
        raise ControlError(str(error)) from error


def _setting(name: str, value: Any) -> Any:
    if name not in _SETTING_TYPES:
        raise ControlError(f"unknown setting {name!r}; known: {', '.join(sorted(_SETTING_TYPES))}")
    if name == "users":
        return _users(value)
    if value is None:
        return None
    if name.endswith("_s"):
        return _seconds(value)
    if name in ("executor_tags", "deployed_apps"):
        return frozenset(value)
    return tuple(value) if name == "mount_whitelist" else value


def _users(value: Any) -> dict[str, SimUser]:
    try:
        users = [
            SimUser(u["username"], u["password"], u.get("role", "EXTERNAL_ROOT")) for u in value
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise ControlError(f"users: expected [{{username, password, role}}], {error}") from error
    return {user.username: user for user in users}


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dict):
        return {name: {"role": user.role} for name, user in value.items()}  # passwords stay out
    return value
