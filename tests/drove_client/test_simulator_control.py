"""The simulator's control interface over HTTP, and running it from the command line."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from drove_client.simulator import DroveSimulator
from drove_client.simulator.cli import add_arguments, settings_from_options, simulator_from_options
from drove_client.simulator.settings import SimSettings
from tests.drove_client.conftest import APP, wait_for

ROOT = Path(__file__).resolve().parents[2]
OPS = "/apis/v1/tasks/operations"


class Sim:
    """Talks to ``/_sim`` and ``/apis`` of one controller."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.base}/_sim/{path}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, timeout=5)


@pytest.fixture
def sim(simulator: DroveSimulator) -> Iterator[Sim]:
    sim = Sim(simulator.url)
    yield sim
    sim.session.close()


def test_state_describes_the_cluster(cluster: DroveSimulator) -> None:
    state = Sim(cluster.url).control("GET", "state")
    assert state["leader"] == 0
    assert [c["url"] for c in state["controllers"]] == cluster.urls
    assert state["maintenance"] is False and state["faults"] == []


def test_requests_are_logged_and_can_be_cleared(sim: Sim) -> None:
    sim.api("GET", "/apis/v1/ping")
    sim.api("GET", "/apis/v1/tasks/epoch-1/instances/x")
    logged = sim.control("GET", "requests?path=/ping")["requests"]
    assert [(r["method"], r["path"], r["controller"]) for r in logged] == [
        ("GET", "/apis/v1/ping", 0)
    ]
    assert logged[0]["answer"]["status"] == 200
    (missing,) = sim.control("GET", "requests?path=/instances/x")["requests"]
    assert missing["answer"] == {
        "status": 200,  # Drove's answer for an unknown task, with a FAILED envelope
        "body": {"status": "FAILED", "message": "No such task instance epoch-1/x"},
    }
    assert sim.control("DELETE", "requests") == {"cleared": 2}
    assert sim.control("GET", "requests")["requests"] == []


def test_control_calls_are_not_logged_as_drove_requests(sim: Sim) -> None:
    sim.control("GET", "state")
    assert sim.control("GET", "requests")["requests"] == []


def test_seed_force_and_forget_a_task(sim: Sim) -> None:
    seeded = sim.control(
        "POST",
        "tasks",
        {"sourceAppName": APP, "taskId": "t1", "state": "RUNNING", "hold": True},
    )
    assert seeded["state"] == "RUNNING" and seeded["_sim"]["runner"] is True
    assert (
        sim.api("GET", "/apis/v1/tasks/epoch-1/instances/t1").json()["data"]["state"] == "RUNNING"
    )
    forced = sim.control(
        "POST",
        "tasks/epoch-1/t1/state",
        {
            "state": "STOPPED",
            "taskResult": {"status": "FAILED", "exitCode": 9},
            "errorMessage": "x",
        },
    )
    assert (forced["state"], forced["taskResult"]["exitCode"], forced["errorMessage"]) == (
        "STOPPED",
        9,
        "x",
    )
    assert sim.control("GET", "tasks/epoch-1/t1")["_sim"]["history"] == ["RUNNING", "STOPPED"]
    assert sim.control("POST", "tasks/epoch-1/t1/forget", {}) == {"record": True, "runner": True}
    assert sim.control("GET", "tasks")["tasks"] == []


def test_forced_state_continues_the_progression(sim: Sim) -> None:
    sim.control(
        "POST", "tasks", {"sourceAppName": APP, "taskId": "t1", "state": "RUNNING", "hold": True}
    )
    sim.control("POST", "tasks/epoch-1/t1/state", {"state": "RUN_COMPLETED"})
    final = wait_for(
        lambda: sim.control("GET", "tasks/epoch-1/t1"), lambda t: t["state"] == "STOPPED"
    )
    assert final["_sim"]["history"][-2:] == ["DEPROVISIONING", "STOPPED"]


def test_forgetting_only_the_runner_keeps_the_record(sim: Sim) -> None:
    sim.control(
        "POST", "tasks", {"sourceAppName": APP, "taskId": "t1", "state": "RUNNING", "hold": True}
    )
    sim.control("POST", "tasks/epoch-1/t1/forget", {"record": False})
    kill = {
        "type": "KILL",
        "sourceAppName": APP,
        "taskId": "t1",
        "opSpec": {"timeout": "1m", "parallelism": 1, "failureStrategy": "STOP"},
    }
    assert sim.api("POST", OPS, kill).status_code == 400
    assert sim.api("GET", "/apis/v1/tasks/epoch-1/instances/t1").json()["status"] == "SUCCESS"


def test_bad_control_requests_are_explained(sim: Sim) -> None:
    bad_state = sim.session.post(
        f"{sim.base}/_sim/tasks",
        json={"sourceAppName": APP, "taskId": "t", "state": "NAPPING"},
        timeout=5,
    )
    assert bad_state.status_code == 400 and "state must be one of" in bad_state.json()["error"]
    missing = sim.session.get(f"{sim.base}/_sim/tasks/epoch-1/ghost", timeout=5)
    assert missing.status_code == 404
    unknown = sim.session.post(f"{sim.base}/_sim/settings", json={"colour": "blue"}, timeout=5)
    assert unknown.status_code == 400 and "unknown setting" in unknown.json()["error"]


def test_maintenance_toggle(sim: Sim) -> None:
    assert sim.control("POST", "maintenance", {"enabled": True}) == {"maintenance": True}
    assert sim.api("POST", OPS, {"type": "CREATE"}).json()["data"]["validationErrors"] == [
        "opSpec must not be null",
        "spec must not be null",
    ]
    assert sim.control("POST", "maintenance", {"enabled": False}) == {"maintenance": False}


@pytest.mark.parametrize(
    ("fault", "status", "body_fragment"),
    [
        ({"mode": "status", "status": 503}, 503, "503 Service Unavailable"),
        ({"mode": "status", "status": 500}, 500, "Unexpected Server error"),
        ({"mode": "status", "status": 400}, 400, '"message":"Test failure"'),
        ({"mode": "status", "status": 200, "message": "Disk full"}, 200, '"message":"Disk full"'),
        ({"mode": "status", "status": 500, "body": {"x": 1}}, 500, '{"x":1}'),
        ({"mode": "not-leader"}, 400, "This node is not the leader controller"),
    ],
)
def test_faults_answer_instead_of_drove(
    sim: Sim, fault: dict[str, Any], status: int, body_fragment: str
) -> None:
    sim.control("POST", "faults", {**fault, "match": "GET /apis/v1/ping", "count": 1})
    response = sim.api("GET", "/apis/v1/ping")
    assert response.status_code == status and body_fragment in response.text
    assert sim.api("GET", "/apis/v1/ping").status_code == 200  # the count was used up
    assert sim.control("GET", "faults") == {"faults": []}


def test_drop_fault_closes_the_connection(sim: Sim) -> None:
    sim.control("POST", "faults", {"mode": "drop", "count": 1})
    with pytest.raises(requests.ConnectionError):
        sim.api("GET", "/apis/v1/ping")
    (dropped,) = sim.control("GET", "requests")["requests"]
    assert (dropped["fault"], dropped["answer"]) == ("drop", None)


def test_delay_fault_holds_the_answer(sim: Sim) -> None:
    sim.control("POST", "faults", {"mode": "delay", "delay": "300ms", "count": 1})
    with pytest.raises(requests.Timeout):
        sim.session.get(f"{sim.base}/apis/v1/ping", timeout=0.1)


def test_refuse_closes_the_port_until_faults_are_cleared(cluster: DroveSimulator) -> None:
    first, second = Sim(cluster.urls[0]), Sim(cluster.urls[1])
    first.api("GET", "/apis/v1/ping")  # a pooled keep-alive connection
    second.control("POST", "faults", {"mode": "refuse", "controller": 0})
    with pytest.raises(requests.ConnectionError):
        first.api("GET", "/apis/v1/ping")
    with pytest.raises(requests.ConnectionError):
        requests.get(cluster.urls[0] + "/apis/v1/ping", timeout=1)
    state = second.control("DELETE", "faults")
    assert all(c["listening"] for c in state["controllers"])
    assert first.api("GET", "/apis/v1/ping").status_code == 200


def test_refusing_its_own_port_still_answers_the_control_call(
    sim: Sim, simulator: DroveSimulator
) -> None:
    state = sim.control("POST", "faults", {"mode": "refuse", "for": "200ms"})
    assert state["controllers"][0]["listening"] is False
    wait_for(lambda: simulator.controllers[0].listening)
    assert requests.get(simulator.url + "/apis/v1/ping", timeout=1).status_code == 200


def test_leader_switch(cluster: DroveSimulator) -> None:
    control = Sim(cluster.urls[2])
    assert control.control("POST", "leader", {"index": 2})["leader"] == 2
    assert requests.get(cluster.urls[0] + "/apis/v1/ping", timeout=1).status_code == 400
    assert requests.get(cluster.urls[2] + "/apis/v1/ping", timeout=1).status_code == 200
    assert control.control("POST", "leader", {"index": None})["leader"] is None
    assert requests.get(cluster.urls[2] + "/apis/v1/ping", timeout=1).status_code == 400


def test_settings_and_reset(sim: Sim, simulator: DroveSimulator) -> None:
    changed = sim.control(
        "POST",
        "settings",
        {
            "step_s": "5ms",
            "cpus": 64,
            "deployed_apps": ["a"],
            "users": [{"username": "admin", "password": "admin"}],
        },
    )
    assert changed == {
        "step_s": 0.005,
        "cpus": 64,
        "deployed_apps": ["a"],
        "users": {"admin": {"role": "EXTERNAL_ROOT"}},
    }
    assert simulator.settings.step_s == 0.005
    assert sim.api("GET", "/apis/v1/ping").status_code == 401
    sim.control("POST", "tasks", {"sourceAppName": APP, "taskId": "t1", "state": "STOPPED"})
    state = sim.control("POST", "reset")
    assert state["counts"] == {"tasks": 0, "runners": 0}
    assert sim.control("POST", "retention") == {"deleted": 0}


# --- command line --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_until_ready(
    command: list[str], url: str, auth: tuple[str, str] | None
) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def ping() -> int:
        try:
            return requests.get(url + "/apis/v1/ping", auth=auth, timeout=1).status_code
        except requests.ConnectionError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            return 0

    wait_for(ping, lambda status: status == 200, timeout_s=20)
    return process


def stop(process: subprocess.Popen[str], signum: int) -> str:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    return output


def test_management_command_serves_several_controllers_until_sigterm() -> None:
    ports = (free_port(), free_port())
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    command = [
        sys.executable,
        "manage.py",
        "drove_simulator",
        "--ports",
        ",".join(map(str, ports)),
        "--user",
        "admin:admin",
        "--step",
        "10ms",
    ]
    process = run_until_ready(command, first, ("admin", "admin"))
    try:
        follower = requests.get(second + "/apis/v1/ping", auth=("admin", "admin"), timeout=1)
        assert follower.status_code == 400
        assert requests.get(first + "/apis/v1/ping", timeout=1).status_code == 401
    finally:
        output = stop(process, signal.SIGTERM)
    assert f"listening on {first}, {second}" in output
    assert "Drove simulator stopped" in output


def test_port_option_puts_controllers_on_consecutive_ports() -> None:
    options = {"port": 7000, "controllers": 3, "host": "127.0.0.1", "step": "1s"}
    options.update(run_duration="1s", outcome="success", cpus=12, memory_mb=1024)
    options.update(retention_age="2d", retention_interval="1h", user=["a:b:EXTERNAL_READ_ONLY"])
    simulator = simulator_from_options(options)
    assert [c.port for c in simulator.controllers] == [7000, 7001, 7002]
    assert simulator.settings.users["a"].role == "EXTERNAL_READ_ONLY"
    assert simulator.settings.step_s == 1.0


def test_log_size_option_bounds_the_request_log() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    default = settings_from_options(vars(parser.parse_args([])))
    assert default.max_logged_requests == SimSettings.max_logged_requests
    options = vars(parser.parse_args(["--max-logged-requests", "2", "--port", "0"]))
    simulator = simulator_from_options(options)
    simulator.start()
    try:
        for _ in range(3):
            requests.get(f"{simulator.url}/apis/v1/ping", timeout=5)
        assert [r["seq"] for r in simulator.requests()] == [2, 3]
    finally:
        simulator.stop()


def test_module_runs_without_django_until_sigint() -> None:
    port = free_port()
    command = [sys.executable, "-m", "drove_client.simulator", "--port", str(port)]
    process = run_until_ready(command, f"http://127.0.0.1:{port}", None)
    output = stop(process, signal.SIGINT)
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "Drove simulator stopped" in output


def test_simulator_and_client_import_without_django() -> None:
    code = "import sys, drove_client.simulator.cli, drove_client.client; print('django' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
