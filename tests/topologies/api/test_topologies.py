"""Scenarios A1–A20 and A27–A31 of scenarios.md over HTTP (Drove-free parts)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.topologies.api.conftest import topology_body
from topologies import models


def post(api: APIClient, body: Any) -> Any:
    return api.post("/apis/v1/topologies", json.dumps(body), content_type="application/json")


def put(api: APIClient, path: str, body: Any = "") -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return api.put(path, data, content_type="application/json")


class TestCreate:
    def test_creates_an_active_topology(self, api: APIClient) -> None:
        response = post(api, topology_body())
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["message"]) == ("SUCCESS", "success")
        data = body["data"]
        assert (data["id"], data["state"]) == ("TEST_TOPO-1", "ACTIVE")
        assert data["topology"] == topology_body()
        assert data["created"] == data["updated"]

    def test_second_create_is_a_soft_failure(self, api: APIClient) -> None:
        post(api, topology_body())
        response = post(api, topology_body(trigger={"type": "CRON", "timeSpec": "0 1 0 ? * *"}))
        assert response.status_code == 200
        assert response.json() == {
            "status": "FAILED",
            "message": "Topology TEST_TOPO-1 already exists with ID: TEST_TOPO-1",
        }
        assert models.Topology.objects.get().cron_expression == "0 0 0 ? * *"

    def test_bad_name_no_body_and_malformed_json(self, api: APIClient) -> None:
        bad = post(api, topology_body("bad name!"))
        assert bad.status_code == 400
        assert bad.json()["message"] == "Command validation failure"
        assert any(e.startswith("name ") for e in bad.json()["data"]["validationErrors"])
        empty = api.post("/apis/v1/topologies", "", content_type="application/json")
        assert empty.status_code == 400
        assert empty.json()["data"]["validationErrors"] == ["The request body must not be null"]
        broken = api.post("/apis/v1/topologies", "{not json", content_type="application/json")
        assert broken.status_code == 400
        assert broken.json()["message"] == "JSON validation failure"
        assert isinstance(broken.json()["data"]["validationErrors"], list)
        assert not models.Topology.objects.exists()

    @pytest.mark.parametrize("cron", ["* * * * *", "0 0 0 * * *", "0 * * ? *", "0 0 0 ? * ?"])
    def test_invalid_cron_is_rejected_and_nothing_is_stored(
        self, api: APIClient, cron: str
    ) -> None:
        response = post(api, topology_body(trigger={"type": "CRON", "timeSpec": cron}))
        assert response.status_code == 400
        assert response.json()["message"] == "[3002]: Validation failed for input: cron"
        assert response.json()["data"]["validationErrors"][0].startswith("cron ")
        assert not models.Topology.objects.exists()

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda b: b["task"].pop("taskName"), "task.taskName must not be empty"),
            (
                lambda b: b["task"].update(taskName="a.b"),
                'task.taskName must match "[a-zA-Z0-9_-]+"',
            ),
            (
                lambda b: b["task"].pop("executable"),
                "task.executable - Executable details is required",
            ),
            (
                lambda b: b["task"].update(resources=[]),
                "task.resources - CPU/Memory requirements must be specified",
            ),
            (lambda b: b.update(trigger={"type": "AT"}), "trigger.time must not be null"),
            (
                lambda b: b.update(notify={"type": "MAIL", "emails": ["nope"]}),
                "notify.emails[0] must be a well-formed email address",
            ),
            (
                lambda b: b["task"].update(args=["x" * 2049]),
                "task.args combined length must not exceed 2048",
            ),
        ],
    )
    def test_every_field_is_validated(self, api: APIClient, change: Any, expected: str) -> None:
        body = topology_body()
        change(body)
        response = post(api, body)
        assert response.status_code == 400
        assert expected in response.json()["data"]["validationErrors"]
        assert not models.Topology.objects.exists()

    def test_composite_children_are_validated_and_names_unique(self, api: APIClient) -> None:
        child = copy.deepcopy(topology_body()["task"])
        child["taskName"] = "x"
        headless = {k: v for k, v in child.items() if k != "executable"}
        task = {"type": "COMPOSITE", "tasks": [headless, child, child]}
        errors = post(api, topology_body(task=task)).json()["data"]["validationErrors"]
        assert "task.tasks[0].executable - Executable details is required" in errors
        assert "task.tasks[1].taskName must be unique within the topology" in errors or (
            "task.tasks[2].taskName must be unique within the topology" in errors
        )

    def test_unknown_type_is_a_json_failure(self, api: APIClient) -> None:
        body = topology_body()
        body["task"]["type"] = "SHELL"
        response = post(api, body)
        assert response.status_code == 400
        assert response.json()["message"] == "JSON validation failure"


class TestReadAndUpdate:
    def test_list_is_empty_then_sorted(self, api: APIClient) -> None:
        assert api.get("/apis/v1/topologies").json()["data"] == []
        for index in (3, 1, 2):
            post(api, topology_body(f"TEST_TOPO-{index}"))
        ids = [t["id"] for t in api.get("/apis/v1/topologies").json()["data"]]
        assert ids == ["TEST_TOPO-1", "TEST_TOPO-2", "TEST_TOPO-3"]

    def test_get_existing_and_missing(self, api: APIClient) -> None:
        created = post(api, topology_body()).json()["data"]
        assert api.get("/apis/v1/topologies/TEST_TOPO-1").json()["data"] == created
        missing = api.get("/apis/v1/topologies/TEST_TOPO-0")
        assert missing.json() == {"status": "FAILED", "message": "No such topology: TEST_TOPO-0"}

    def test_full_update_keeps_state_and_created(self, api: APIClient) -> None:
        created = post(api, topology_body()).json()["data"]
        changed = topology_body(trigger={"type": "CRON", "timeSpec": "0 0/15 * ? * *"})
        updated = put(api, "/apis/v1/topologies", changed).json()["data"]
        assert updated["topology"] == changed
        assert (updated["state"], updated["created"]) == ("ACTIVE", created["created"])
        assert updated["updated"] >= created["updated"]

    def test_full_update_of_a_missing_topology_is_404(self, api: APIClient) -> None:
        response = put(api, "/apis/v1/topologies", topology_body())
        assert response.status_code == 404
        assert response.json() == {
            "status": "FAILED",
            "message": "[3004]: Topology not found: TEST_TOPO-1",
        }

    def test_full_update_to_an_invalid_cron_changes_nothing(self, api: APIClient) -> None:
        post(api, topology_body())
        response = put(
            api,
            "/apis/v1/topologies",
            topology_body(trigger={"type": "CRON", "timeSpec": "* * * * *"}),
        )
        assert response.status_code == 400
        assert models.Topology.objects.get().cron_expression == "0 0 0 ? * *"


class TestPauseUnpause:
    def test_pause_then_unpause(self, api: APIClient) -> None:
        post(api, topology_body())
        assert put(api, "/apis/v1/topologies/TEST_TOPO-1/pause").json()["data"]["state"] == "PAUSED"
        assert (
            put(api, "/apis/v1/topologies/TEST_TOPO-1/unpause").json()["data"]["state"] == "ACTIVE"
        )

    def test_pausing_twice_changes_nothing(self, api: APIClient) -> None:
        post(api, topology_body())
        first = put(api, "/apis/v1/topologies/TEST_TOPO-1/pause").json()["data"]
        assert put(api, "/apis/v1/topologies/TEST_TOPO-1/pause").json()["data"] == first

    def test_unpausing_an_active_topology_is_a_no_op(self, api: APIClient) -> None:
        created = post(api, topology_body()).json()["data"]
        assert put(api, "/apis/v1/topologies/TEST_TOPO-1/unpause").json()["data"] == created

    @pytest.mark.parametrize("action", ["pause", "unpause"])
    def test_missing_topology_is_404(self, api: APIClient, action: str) -> None:
        response = put(api, f"/apis/v1/topologies/nope/{action}")
        assert response.status_code == 404
        assert response.json()["message"] == "[3004]: Topology not found: nope"


class TestSimpleEdit:
    def test_edit_changes_only_what_the_form_manages(self, api: APIClient) -> None:
        body = topology_body()
        body["task"].update(taskName="main", args=["--since", "2d"], tags={"team": "x"})
        body["task"]["logging"] = {"type": "RSYSLOG", "server": "log:514"}
        body["task"]["executable"]["dockerPullTimeout"] = "5 minutes"
        post(api, body)
        edit = {
            "cron": "0 0 3 ? * MON-FRI",
            "docker": "acme/job:2",
            "cpus": 2,
            "memory": 1024,
            "notifyEmail": "a@x.com, b@x.com",
            "env": {"A": "1"},
            "volumes": [],
        }
        task = put(api, "/apis/v1/topologies/TEST_TOPO-1", edit).json()["data"]["topology"]["task"]
        assert task["executable"] == {
            "type": "DOCKER",
            "url": "acme/job:2",
            "dockerPullTimeout": "5 minutes",
        }
        assert task["resources"] == [
            {"type": "CPU", "count": 2},
            {"type": "MEMORY", "sizeInMB": 1024},
        ]
        assert (task["taskName"], task["args"], task["tags"]) == (
            "main",
            ["--since", "2d"],
            {"team": "x"},
        )
        assert task["logging"] == {"type": "RSYSLOG", "server": "log:514"}
        stored = api.get("/apis/v1/topologies/TEST_TOPO-1").json()["data"]["topology"]
        assert stored["notify"]["emails"] == ["a@x.com", "b@x.com"]

    def test_edit_of_a_composite_is_rejected(self, api: APIClient) -> None:
        child = topology_body()["task"]
        post(api, topology_body(task={"type": "COMPOSITE", "tasks": [child]}))
        edit = {
            "cron": "0 0 3 ? * *",
            "docker": "acme/job:2",
            "cpus": 1,
            "memory": 512,
            "notifyEmail": "a@x.com",
        }
        response = put(api, "/apis/v1/topologies/TEST_TOPO-1", edit)
        assert response.status_code == 400
        assert response.json()["message"] == "[3002]: Validation failed for input: task"

    def test_edit_validation_messages(self, api: APIClient) -> None:
        response = put(
            api,
            "/apis/v1/topologies/TEST_TOPO-1",
            {"cron": "0 0 3 ? * *", "docker": "x", "cpus": 41, "memory": 100, "notifyEmail": "x"},
        )
        errors = response.json()["data"]["validationErrors"]
        assert {
            "cpus must be between 1 and 40",
            "memory must be between 128 and 100000",
            "notifyEmail Invalid email(s) format",
        } <= set(errors)


class TestRuns:
    def test_instant_run_id_and_record(self, api: APIClient) -> None:
        post(api, topology_body())
        response = put(api, "/apis/v1/topologies/TEST_TOPO-1/run", "")
        run_id = response.json()["data"]["runId"]
        assert __import__("re").fullmatch(r"EIR-\d{4}(-\d{2}){5}-\d{3}", run_id)
        run = api.get(f"/apis/v1/topologies/TEST_TOPO-1/runs/{run_id}").json()["data"]
        assert (run["runType"], run["state"], run["message"]) == (
            "INSTANT",
            "RUNNING",
            "Job started",
        )
        assert run["tasks"]["test-task-1"] == {
            "taskId": f"TEST_TOPO-1-{run_id}-test-task-1",
            "state": "PENDING",
        }

    def test_instant_run_of_an_unknown_topology(self, api: APIClient) -> None:
        response = put(api, "/apis/v1/topologies/nope/run")
        assert response.json() == {"status": "FAILED", "message": "No such topology: nope"}

    def test_state_filter(self, api: APIClient) -> None:
        post(api, topology_body())
        states = ["SUCCESSFUL"] * 3 + ["FAILED"] * 2 + ["RUNNING"]
        for index, state in enumerate(states):
            run_id = put(api, "/apis/v1/topologies/TEST_TOPO-1/run").json()["data"]["runId"]
            models.TopologyRun.objects.filter(run_id=run_id).update(state=state, updated=index)

        def count(query: str) -> int:
            return len(api.get(f"/apis/v1/topologies/TEST_TOPO-1/runs{query}").json()["data"])

        assert count("") == 6
        assert count("?state=FAILED") == 2
        assert count("?state=RUNNING&state=FAILED") == 3
        assert count("?state=successful") == 3
        assert count("?state=CANCELLED") == 0
        bogus = api.get("/apis/v1/topologies/TEST_TOPO-1/runs?state=BOGUS")
        assert bogus.status_code == 400
        assert bogus.json()["data"]["validationErrors"] == ["state Invalid value: BOGUS"]

    def test_runs_of_an_unknown_topology_is_empty(self, api: APIClient) -> None:
        assert api.get("/apis/v1/topologies/nope/runs").json() == {
            "status": "SUCCESS",
            "data": [],
            "message": "success",
        }

    def test_missing_run(self, api: APIClient) -> None:
        response = api.get("/apis/v1/topologies/TEST_TOPO/runs/TR-2")
        assert response.json() == {
            "status": "FAILED",
            "message": "Not run exists for TEST_TOPO/TR-2",
        }


class TestProtocol:
    def test_unknown_path_and_wrong_method(self, api: APIClient) -> None:
        assert api.get("/apis/v1/nothing").status_code == 404
        wrong = api.delete("/apis/v1/topologies")
        assert wrong.status_code == 405
        assert wrong.json() == {"status": "FAILED", "message": "[2003]: Operation is not allowed"}

    def test_non_json_body_is_415(self, api: APIClient) -> None:
        response = api.post("/apis/v1/topologies", "name=x", content_type="text/plain")
        assert response.status_code == 415
        assert response.json() == {"status": "FAILED", "message": "[3000]: Invalid Input"}

    def test_json_whatever_the_accept_header(self, api: APIClient) -> None:
        response = api.get("/apis/v1/topologies", HTTP_ACCEPT="*/*")
        assert response["Content-Type"].startswith("application/json")


class TestAdditions:
    def test_next_fire_times_on_request(self, api: APIClient) -> None:
        post(api, topology_body(trigger={"type": "CRON", "timeSpec": "0 0 0 ? * *"}))
        plain = api.get("/apis/v1/topologies/TEST_TOPO-1").json()["data"]
        assert "nextFireTimes" not in plain
        data = api.get("/apis/v1/topologies/TEST_TOPO-1?include=nextFireTimes").json()["data"]
        fires = [fire["epochMs"] for fire in data["nextFireTimes"]]
        assert len(fires) == 5
        assert all(
            later - earlier == 86_400_000 for earlier, later in zip(fires, fires[1:], strict=False)
        )
        assert data["nextFireTimes"][0]["iso"].endswith("T00:00:00.000+00:00")

    def test_paused_topology_has_no_next_fire(self, api: APIClient) -> None:
        post(api, topology_body())
        put(api, "/apis/v1/topologies/TEST_TOPO-1/pause")
        data = api.get("/apis/v1/topologies/TEST_TOPO-1?include=nextFireTimes").json()["data"]
        assert data["nextFireTimes"] == []

    def test_paging_sorting_and_search(self, api: APIClient) -> None:
        for index in range(1, 8):
            post(api, topology_body(f"job-{index}"))
        post(api, topology_body("other"))
        page = api.get("/apis/v1/topologies?page=2&pageSize=3")
        assert [t["id"] for t in page.json()["data"]] == ["job-4", "job-5", "job-6"]
        assert page["X-Total-Count"] == "8"
        found = api.get("/apis/v1/topologies?search=JOB&sort=-id&pageSize=2")
        assert [t["id"] for t in found.json()["data"]] == ["job-7", "job-6"]
        assert found["X-Total-Count"] == "7"

    @pytest.mark.parametrize("query", ["page=0", "pageSize=x", "sort=name"])
    def test_bad_paging_parameters_are_named(self, api: APIClient, query: str) -> None:
        response = api.get(f"/apis/v1/topologies?{query}")
        assert response.status_code == 400
        assert response.json()["data"]["validationErrors"][0].split()[0] == query.split("=")[0]
