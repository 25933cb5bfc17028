"""The Epoch v1 JSON API (epoch-api.md §3): parse, call one service, answer in the envelope."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from epoch_site.api.envelope import failed, success
from epoch_site.api.exceptions import EpochError, SoftFailure
from scheduler.core.triggers import next_fire
from scheduler.cron_preview import iso_time
from topologies import services
from topologies.api.parsing import read_simple, read_topology
from topologies.api.queries import run_list, topology_list
from topologies.codec import details_to_json, run_to_json
from topologies.domain import RunState, TaskState, TopologyDetails, TopologyState
from topologies.simple import NotEditable
from topologies.storage.base import AlreadyExists, NotFound, StoreError
from topologies.web_services import web_services

NEXT_FIRE_COUNT = 5


def not_found(topology_id: str) -> EpochError:
    return EpochError(3004, f"Topology not found: {topology_id}", 404)


class TopologiesView(APIView):
    """A1 create, A2 full update, A4 list."""

    def get(self, request: Request) -> Response:
        return topology_list(request)

    def post(self, request: Request) -> Response:
        topology = read_topology(request)
        try:
            details = services.create_topology(web_services(), topology)
        except AlreadyExists:
            return failed(f"Topology {topology.name} already exists with ID: {topology.name}")
        except StoreError:
            return failed("Could not create topology")
        return success(details_to_json(details))

    def put(self, request: Request) -> Response:
        topology = read_topology(request)
        try:
            details = services.update_topology(web_services(), topology.name, topology)
        except NotFound as error:
            raise not_found(topology.name) from error
        except StoreError:
            return failed("Could not update topology")
        return success(details_to_json(details))


class TopologyView(APIView):
    """A5 get, A3 simple edit, A9 delete."""

    def get(self, request: Request, topology_id: str) -> Response:
        context = web_services()
        details = context.store.get_topology(topology_id)
        if details is None:
            return failed(f"No such topology: {topology_id}")
        data = details_to_json(details)
        if request.query_params.get("include") == "nextFireTimes":
            data["nextFireTimes"] = next_fire_times(details, context.clock.now_ms(), context.zone)
        return success(data)

    def put(self, request: Request, topology_id: str) -> Response:
        return success(details_to_json(edit(request, topology_id)))

    def delete(self, request: Request, topology_id: str) -> Response:
        try:
            services.delete_topology(web_services(), topology_id)
        except StoreError:
            return success(False)
        return success(True)


def next_fire_times(details: TopologyDetails, now_ms: int, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The topology's coming fire times (none while it is paused), an opt-in extra of A5."""
    if details.state is not TopologyState.ACTIVE:
        return []
    fires, after = [], now_ms
    for _ in range(NEXT_FIRE_COUNT):
        fire = next_fire(details.topology.trigger, after, zone)
        if fire is None:
            break
        fires.append({"epochMs": fire, "iso": iso_time(fire, zone)})
        after = fire
    return fires


def edit(request: Request, topology_id: str) -> Any:
    """The simple edit shared by the API and the UI (checks: body, fields, cron, existence, shape)."""
    simple = read_simple(request, with_name=False)
    try:
        return services.edit_topology(web_services(), topology_id, simple)
    except NotFound as error:
        raise not_found(topology_id) from error
    except NotEditable as error:
        raise EpochError(3002, "Validation failed for input: task", 400) from error
    except StoreError:
        raise SoftFailure("Could not update topology") from None


class RunNowView(APIView):
    def put(self, request: Request, topology_id: str) -> Response:
        try:
            run_id = services.run_now(web_services(), topology_id)
        except StoreError:
            run_id = None
        if run_id is None:
            return failed(f"No such topology: {topology_id}")
        return success({"runId": run_id})


class PauseView(APIView):
    def put(self, request: Request, topology_id: str) -> Response:
        try:
            return success(details_to_json(services.pause_topology(web_services(), topology_id)))
        except NotFound as error:
            raise not_found(topology_id) from error


class UnpauseView(APIView):
    def put(self, request: Request, topology_id: str) -> Response:
        try:
            return success(details_to_json(services.unpause_topology(web_services(), topology_id)))
        except NotFound as error:
            raise not_found(topology_id) from error


class RunsView(APIView):
    """A10: runs newest first, filtered by run state."""

    def get(self, request: Request, topology_id: str) -> Response:
        return run_list(request, topology_id, run_states(request.query_params.getlist("state")))


def run_states(values: list[str]) -> set[str] | None:
    if not values:
        return None
    task_only = {state.value for state in TaskState} - {state.value for state in RunState}
    wanted: set[str] = set()
    for value in values:
        upper = value.upper()
        if upper in RunState.__members__:
            wanted.add(upper)
        elif upper not in task_only:
            raise ValidationError([f"state Invalid value: {value}"])
    return wanted


class RunView(APIView):
    def get(self, request: Request, topology_id: str, run_id: str) -> Response:
        run = web_services().store.get_run(topology_id, run_id)
        if run is None:
            return failed(f"Not run exists for {topology_id}/{run_id}")
        return success(run_to_json(run))


class KillTaskView(APIView):
    def post(self, request: Request, topology_id: str, run_id: str, task_name: str) -> Response:
        answer = services.kill_task(web_services(), topology_id, run_id, task_name)
        name = f"{topology_id}/{run_id}/{task_name}"
        if answer is None:
            data = {"success": False, "message": "No task found for the provided id"}
            return failed(f"No task exists for {name}", data)
        accepted, message = answer
        if accepted:
            return success({"success": True, "message": message})
        return failed(
            f"Could not cancel task {name}. Error: {message}",
            {"success": False, "message": message},
        )


class TaskLogView(APIView):
    def get(self, request: Request, topology_id: str, run_id: str, task_name: str) -> Response:
        link = services.task_log_link(web_services(), topology_id, run_id, task_name)
        if link is None:
            return failed(f"No log exists for {topology_id}/{run_id}/{task_name}")
        return success(link)
