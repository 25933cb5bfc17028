"""The simulator against drove-api.md §2-§6: exact envelopes, strings, statuses and check order.

Plain ``requests`` calls, so these tests fix the wire format independently of our client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from drove_client.simulator import DroveSimulator, SimUser
from tests.drove_client.conftest import fast_settings, wait_for_some

OPS = "/apis/v1/tasks/operations"
OP_SPEC = {"timeout": "300 seconds", "parallelism": 1, "failureStrategy": "STOP"}
JSON = {"Content-Type": "application/json"}


def spec(task_id: str = "T1", **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "sourceAppName": "epoch-1",
        "taskId": task_id,
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/x/y:1",
            "dockerPullTimeout": "100 seconds",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 512}],
        "placementPolicy": {"type": "ANY"},
        "env": {"DROVE_SIM_DURATION": "10s"},
    }
    value.update(fields)
    return {k: v for k, v in value.items() if v is not None}


def create(task_id: str = "T1", **fields: Any) -> dict[str, Any]:
    return {"type": "CREATE", "spec": spec(task_id, **fields), "opSpec": OP_SPEC}


class Drove:
    """Raw HTTP against one simulated controller."""

    def __init__(self, base: str, auth: tuple[str, str] | None = None) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.auth = auth

    def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.session.post(self.base + path, data=data, headers=headers or JSON, timeout=5)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=5)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.base + path, timeout=5)

    def errors(self, body: Any, path: str = OPS) -> list[str]:
        response = self.post(path, body)
        assert response.status_code == 400, response.text
        errors: list[str] = response.json()["data"]["validationErrors"]
        return errors


@pytest.fixture
def drove(simulator: DroveSimulator) -> Iterator[Drove]:
    drove = Drove(simulator.url)
    yield drove
    drove.session.close()


# --- envelopes and strings -------------------------------------------------------------------


def test_create_answers_the_internal_task_id(drove: Drove) -> None:
    response = drove.post(OPS, create())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert (
        response.text == '{"status":"SUCCESS","data":{"taskId":"epoch-1-T1"},"message":"success"}'
    )


def test_get_of_an_unknown_task_is_200_failed_without_data(drove: Drove) -> None:
    response = drove.get("/apis/v1/tasks/epoch-1/instances/nope")
    assert response.status_code == 200
    assert response.text == '{"status":"FAILED","message":"No such task instance epoch-1/nope"}'


def test_record_appears_with_the_first_report_and_echoes_the_spec(
    drove: Drove, simulator: DroveSimulator
) -> None:
    body = create(
        executable={"url": "ghcr.io/x/y:1", "dockerPullTimeout": "5m"},
        volumes=[{"pathInContainer": "/d", "pathOnHost": "/mnt/d", "mode": "read_only"}],
        logging={"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
    )
    drove.post(OPS, body)
    assert drove.get("/apis/v1/tasks/epoch-1/instances/T1").json()["status"] == "FAILED"
    record = _wait_record(drove, "T1", lambda r: r["state"] == "RUNNING")
    assert list(record) == [
        "sourceAppName",
        "taskId",
        "instanceId",
        "executorId",
        "hostname",
        "executable",
        "resources",
        "volumes",
        "loggingSpec",
        "env",
        "state",
        "metadata",
        "errorMessage",
        "created",
        "updated",
    ]
    assert record["executable"] == {
        "type": "DOCKER",
        "url": "ghcr.io/x/y:1",
        "dockerPullTimeout": "5 minutes",
    }
    assert record["volumes"] == [
        {"pathInContainer": "/d", "pathOnHost": "/mnt/d", "mode": "READ_ONLY"}
    ]
    assert record["loggingSpec"]["maxSize"] == "10m"
    assert record["resources"] == [
        {"type": "CPU", "cores": {"0": [0]}},
        {"type": "MEMORY", "memoryInMB": {"0": 512}},
    ]
    assert record["instanceId"].startswith("TI-")
    assert record["metadata"] == {} and record["errorMessage"] == ""


def test_kill_answers_the_bare_task_id(drove: Drove) -> None:
    drove.post(OPS, create())
    _wait_record(drove, "T1", lambda r: r["state"] == "RUNNING")
    response = drove.post(
        OPS, {"type": "KILL", "sourceAppName": "epoch-1", "taskId": "T1", "opSpec": OP_SPEC}
    )
    assert response.text == '{"status":"SUCCESS","data":{"taskId":"T1"},"message":"success"}'


def test_kill_of_an_unknown_task(drove: Drove) -> None:
    response = drove.post(
        OPS, {"type": "KILL", "sourceAppName": "epoch-1", "taskId": "X", "opSpec": OP_SPEC}
    )
    assert response.status_code == 400
    assert response.text == (
        '{"status":"FAILED","data":{"validationErrors":["Either task does not exist or has '
        'already finished for epoch-1/X"]},"message":"Command validation failure"}'
    )


def test_delete_is_idempotent_and_switchable_to_a_storage_error(
    drove: Drove, simulator: DroveSimulator
) -> None:
    for _ in range(2):
        response = drove.delete("/apis/v1/tasks/epoch-1/instances/T1")
        assert response.text == '{"status":"SUCCESS","data":{"deleted":true},"message":"success"}'
    simulator.settings.delete_fails = True
    response = drove.delete("/apis/v1/tasks/epoch-1/instances/T1")
    assert response.status_code == 200
    assert response.text == (
        '{"status":"FAILED","data":{"deleted":false},"message":"Could not delete epoch-1/T1"}'
    )


def test_ping_and_active_list(drove: Drove) -> None:
    assert (
        drove.get("/apis/v1/ping").text == '{"status":"SUCCESS","data":"pong","message":"success"}'
    )
    assert drove.get("/apis/v1/tasks").text == '{"status":"SUCCESS","data":[],"message":"success"}'


def test_cluster_summary_names_the_leader(cluster: DroveSimulator) -> None:
    summary = requests.get(cluster.url + "/apis/v1/cluster", timeout=5).json()["data"]
    assert summary["leader"] == cluster.urls[0].removeprefix("http://")
    assert summary["totalCores"] == 12


def test_unknown_path_wrong_method_and_wrong_content_type(drove: Drove) -> None:
    assert drove.get("/apis/v1/nothing").status_code == 404
    assert drove.get(OPS).status_code == 405
    response = drove.post(OPS, create(), headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.content) == (415, b"")


# --- validation ----------------------------------------------------------------------------------


def test_bean_violations_are_collected_with_their_paths(drove: Drove) -> None:
    body = create(
        "bad id!",
        executable={"url": "", "dockerPullTimeout": "1m"},
        resources=[],
        volumes=[{"pathInContainer": "/x", "pathOnHost": "", "mode": "READ_WRITE"}],
    )
    body["opSpec"] = {"timeout": "1m", "parallelism": 0, "failureStrategy": "STOP"}
    response = drove.post(OPS, body)
    assert response.json()["message"] == "Command validation failure"
    assert response.json()["data"]["validationErrors"] == [
        "opSpec.parallelism must be greater than or equal to 1",
        "spec.taskId - Only characters, numbers, hyphen and underscore is allowed",
        "spec.executable.url must not be empty",
        "spec.volumes[0].pathOnHost must not be empty",
        "spec.resources must not be empty",
    ]


def test_missing_spec_op_spec_and_executable(drove: Drove) -> None:
    assert drove.errors({"type": "CREATE"}) == ["opSpec must not be null", "spec must not be null"]
    body = create(executable=None)
    assert drove.errors(body) == ["spec.executable must not be null"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Unable to process JSON"),
        ({"spec": {}}, "missing type id property 'type'"),
        ({"type": "DESTROY"}, "Could not resolve type id 'DESTROY'"),
        (
            {
                "type": "CREATE",
                "spec": spec(executable={"url": "x", "dockerPullTimeout": 100}),
                "opSpec": OP_SPEC,
            },
            "Invalid duration: 100",
        ),
        (
            {
                "type": "CREATE",
                "spec": spec(resources=[{"type": "GPU", "count": 1}]),
                "opSpec": OP_SPEC,
            },
            "Could not resolve type id 'GPU'",
        ),
    ],
)
def test_unreadable_bodies_are_json_validation_failures(
    drove: Drove, body: Any, fragment: str
) -> None:
    response = drove.post(OPS, body)
    assert response.status_code == 400
    assert response.json()["message"] == "JSON validation failure"
    [error] = response.json()["data"]["validationErrors"]
    assert fragment in error


def test_422_switch_answers_errors_list(drove: Drove, simulator: DroveSimulator) -> None:
    simulator.settings.validation_status = 422
    response = drove.post(OPS, create("bad id"))
    assert response.status_code == 422
    assert response.json() == {
        "errors": ["spec.taskId - Only characters, numbers, hyphen and underscore is allowed"]
    }


# --- engine checks ---------------------------------------------------------------------------


def test_capacity_is_checked_against_the_cluster_size(drove: Drove) -> None:
    assert drove.errors(create(resources=[{"type": "CPU", "count": 64}])) == [
        "Cluster does not have enough CPU. Required: 64 Available: 12"
    ]
    assert drove.errors(create(resources=[{"type": "MEMORY", "sizeInMB": 100_000}])) == [
        "Cluster does not have enough Memory. Required: 100000 Available: 65536"
    ]


def test_cores_must_fit_one_numa_node(drove: Drove, simulator: DroveSimulator) -> None:
    simulator.settings.numa_cores = 6
    assert drove.errors(create(resources=[{"type": "CPU", "count": 8}])) == [
        "Required cores exceeds the maximum core available on a single NUMA node in the cluster. "
        "Required: 8 Max: 6"
    ]


def test_running_tasks_use_up_capacity_until_they_end(
    drove: Drove, simulator: DroveSimulator
) -> None:
    assert (
        drove.post(OPS, create("big", resources=[{"type": "CPU", "count": 12}])).status_code == 200
    )
    assert drove.errors(create("small")) == [
        "Cluster does not have enough CPU. Required: 1 Available: 0"
    ]
    big = simulator.store.task("epoch-1", "big")
    assert big is not None
    simulator.store.force(big, "STOPPED")
    assert drove.post(OPS, create("small")).status_code == 200


def test_spec_checks_are_reported_together(drove: Drove, simulator: DroveSimulator) -> None:
    simulator.settings.mount_whitelist = ("/mnt/allowed",)
    body = create(
        volumes=[{"pathInContainer": "/x", "pathOnHost": "/etc", "mode": "READ_ONLY"}],
        devices=[{"type": "DIRECT"}],
        placementPolicy={"type": "COMPOSITE", "policies": [{"type": "LOCAL"}], "combiner": "AND"},
        args=["x" * 2049],
    )
    assert drove.errors(body) == [
        "Volume mount requested on non whitelisted host directory: /etc",
        "Maximum combined length of command line arguments can be 2048",
        "Device access is disabled. To enable, set enableRawDeviceAccess: true in controller options.",
        "Local service placement is not allowed for tasks",
    ]
    simulator.settings.args_enabled = False
    assert drove.errors(create(args=["--x"])) == [
        "Passing command line to containers is disabled on this cluster"
    ]


def test_duplicates_are_rejected_while_the_task_exists(drove: Drove) -> None:
    assert drove.post(OPS, create()).status_code == 200
    assert drove.errors(create()) == ["Task already exists for epoch-1/T1 with taskID: epoch-1-T1"]


def test_runner_keys_of_different_ids_can_collide(drove: Drove) -> None:
    assert drove.post(OPS, create("b-c")).status_code == 200
    body = create("c")
    body["spec"]["sourceAppName"] = "epoch-1-b"
    assert drove.errors(body) == ["Task already exists for epoch-1-b/c with taskID: epoch-1-b-c"]


def test_maintenance_rejects_operations_but_not_reads(
    drove: Drove, simulator: DroveSimulator
) -> None:
    simulator.settings.maintenance = True
    assert drove.errors(create()) == ["Cluster is in maintenance mode"]
    assert drove.errors(spec(), "/apis/v1/tasks/validate/spec") == [
        "Cluster is in maintenance mode"
    ]
    assert drove.get("/apis/v1/tasks").status_code == 200


def test_missing_placement_is_a_server_error_unless_drove_1_30(
    drove: Drove, simulator: DroveSimulator
) -> None:
    response = drove.post(OPS, create(placementPolicy=None))
    assert response.status_code == 500
    assert response.json()["message"] == "Unexpected Server error"
    assert list(response.json()) == ["status", "data", "message"]
    assert "getPlacementPolicy()" in response.json()["data"]["failure"]
    simulator.settings.placement_required = False
    assert drove.post(OPS, create(placementPolicy=None)).status_code == 200


def test_validate_spec_skips_the_duplicate_check(drove: Drove) -> None:
    drove.post(OPS, create())
    response = drove.post("/apis/v1/tasks/validate/spec", spec())
    assert response.text == '{"status":"SUCCESS","message":"success"}'
    assert drove.errors(spec(resources=[]), "/apis/v1/tasks/validate/spec") == [
        "resources must not be empty"
    ]


# --- auth and leadership ---------------------------------------------------------------------


@pytest.fixture
def secured() -> Iterator[DroveSimulator]:
    settings = fast_settings()
    settings.add_users(
        SimUser("admin", "admin", "EXTERNAL_ROOT"),
        SimUser("writer", "writer", "EXTERNAL_READ_WRITE"),
        SimUser("reader", "reader", "EXTERNAL_READ_ONLY"),
    )
    with DroveSimulator(settings, controllers=2) as simulator:
        yield simulator


def test_missing_or_wrong_credentials_are_401_before_anything_else(secured: DroveSimulator) -> None:
    for auth in (None, ("admin", "nope"), ("ghost", "admin")):
        for base in secured.urls:  # the non-leader too: authentication comes first
            response = Drove(base, auth).post(OPS, b"{not json")
            assert response.status_code == 401
            assert response.headers["Content-Type"] == "text/plain"
            assert response.headers["WWW-Authenticate"] == 'Basic realm="realm"'
            assert response.text == "Credentials are required to access this resource."


def test_read_only_users_may_read_but_not_operate_even_on_a_non_leader(
    secured: DroveSimulator,
) -> None:
    leader, follower = (Drove(base, ("reader", "reader")) for base in secured.urls)
    assert leader.get("/apis/v1/tasks").status_code == 200
    response = leader.post(OPS, create())
    assert (response.status_code, response.content) == (403, b"")
    assert follower.post(OPS, create()).status_code == 403  # role before leadership
    assert leader.post("/apis/v1/tasks/validate/spec", spec()).status_code == 200


def test_writers_operate_and_non_leaders_answer_not_the_leader(secured: DroveSimulator) -> None:
    leader, follower = (Drove(base, ("writer", "writer")) for base in secured.urls)
    assert leader.post(OPS, create()).status_code == 200
    calls: list[Callable[[], requests.Response]] = [
        lambda: follower.post(OPS, b"{not json"),
        lambda: follower.get("/apis/v1/ping"),
        lambda: follower.get("/apis/v1/tasks/epoch-1/instances/T1"),
        lambda: follower.delete("/apis/v1/tasks/epoch-1/instances/T1"),
    ]
    for call in calls:
        response = call()
        assert response.status_code == 400
        assert (
            response.text
            == '{"status":"FAILED","message":"This node is not the leader controller"}'
        )


def test_without_users_credentials_are_ignored(drove: Drove, simulator: DroveSimulator) -> None:
    drove.session.auth = ("anyone", "anything")
    assert drove.post(OPS, create()).status_code == 200


def _wait_record(
    drove: Drove, task_id: str, accept: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        body = drove.get(f"/apis/v1/tasks/epoch-1/instances/{task_id}").json()
        data: dict[str, Any] | None = body.get("data")
        return data

    return wait_for_some(read, accept)
