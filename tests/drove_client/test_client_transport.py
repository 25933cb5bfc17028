"""Transport: headers and auth on every call, time-outs, and leader discovery across controllers."""

from __future__ import annotations

import socket
import time

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator, Fault, SimUser
from drove_client.states import TaskState
from epoch_site.durations import Duration
from tests.drove_client.conftest import container_task, drove_config, scripted, wait_for

ADMIN_ADMIN = "Basic YWRtaW46YWRtaW4="


def controllers_called(simulator: DroveSimulator, path: str) -> list[int]:
    return [int(r["controller"]) for r in simulator.requests(path=path)]


def test_every_request_carries_json_headers(client: DroveClient, simulator: DroveSimulator) -> None:
    client.start_task("t1", container_task())
    client.task_status("t1")
    client.kill_task("t1")
    client.delete_task("t1")
    client.active_tasks()
    requests = simulator.requests()
    assert len(requests) == 5
    for request in requests:
        headers = request["headers"]
        assert headers["Content-Type"] == "application/json"
        assert headers["Accept"] == "application/json"
        assert "Authorization" not in headers


def test_basic_auth_on_every_call_including_ping(cluster: DroveSimulator) -> None:
    cluster.settings.add_users(SimUser("admin", "admin", "EXTERNAL_READ_WRITE"))
    config = drove_config(cluster.urls, username="admin", password="admin")
    with DroveClient(config) as client:
        assert client.start_task("t1", container_task()).state is TaskState.STARTING
        client.task_status("t1")
        client.active_tasks()
        client.kill_task("t1")
        client.delete_task("t1")
    requests = cluster.requests()
    assert any(r["path"] == "/apis/v1/ping" for r in requests)
    assert {r["headers"]["Authorization"] for r in requests} == {ADMIN_ADMIN}


def test_no_auth_header_unless_username_and_password_are_both_set(
    simulator: DroveSimulator,
) -> None:
    with DroveClient(drove_config([simulator.url], username="admin")) as client:
        client.task_status("t1")
    assert "Authorization" not in simulator.requests()[0]["headers"]


def test_read_only_user_cannot_create(simulator: DroveSimulator) -> None:
    simulator.settings.add_users(SimUser("guest", "guest", "EXTERNAL_READ_ONLY"))
    with DroveClient(drove_config([simulator.url], username="guest", password="guest")) as client:
        assert client.task_status("t1").not_found  # reads are allowed
        outcome = client.start_task("t1", container_task())
    assert outcome.state is TaskState.FAILED
    assert outcome.error_message == "Received error from api: [403] "


def test_a_single_endpoint_is_never_pinged(client: DroveClient, simulator: DroveSimulator) -> None:
    client.start_task("t1", container_task())
    for _ in range(3):
        client.task_status("t1")
    simulator.add_fault(Fault("not-leader", remaining=1))
    client.task_status("t1")
    assert client.leader() == simulator.url
    assert simulator.requests(path="/apis/v1/ping") == []


def test_settings_reach_the_session(
    simulator: DroveSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    config = drove_config(
        [simulator.url + "/"],
        insecure=True,
        connection_timeout=Duration(2, "seconds"),
        operation_timeout=Duration(3, "seconds"),
    )
    with DroveClient(config) as client:
        assert client.transport.verify is False
        assert client.transport.pool.connection_pool_kw["cert_reqs"] == "CERT_NONE"
        assert client.transport.timeout == (2, 3)
        assert client.leader() == simulator.url  # trailing "/" dropped
    with DroveClient(drove_config([simulator.url])) as client:
        assert client.transport.verify is True
        assert client.transport.pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"


def test_a_ca_bundle_from_the_environment_is_kept(
    simulator: DroveSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/drove-ca.pem")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with DroveClient(drove_config([simulator.url])) as client:
        assert client.transport.pool.connection_pool_kw["ca_certs"] == "/etc/ssl/drove-ca.pem"
    with DroveClient(drove_config([simulator.url], insecure=True)) as client:
        assert client.transport.verify is False


def test_leader_is_found_by_ping_and_used(cluster: DroveSimulator) -> None:
    cluster.set_leader(1)
    with DroveClient(drove_config(cluster.urls)) as client:
        assert client.start_task("t1", container_task()).state is TaskState.STARTING
        assert client.leader() == cluster.urls[1]
    assert controllers_called(cluster, "/apis/v1/ping")[:2] == [0, 1]
    assert controllers_called(cluster, "/apis/v1/tasks/operations") == [1]


def test_leader_switch_is_followed_without_losing_a_call(cluster: DroveSimulator) -> None:
    config = drove_config(cluster.urls, check_interval=Duration(1, "hours"))
    with DroveClient(config) as client:
        client.start_task("t1", scripted("success", DROVE_SIM_DURATION="10s"))
        wait_for(lambda: client.task_status("t1").answered)
        cluster.set_leader(2)
        cluster.clear_requests()
        outcome = client.task_status("t1")
        assert outcome.answered  # the 400 "not the leader" made the client re-probe at once
        assert client.leader() == cluster.urls[2]
        assert client.log_link("t1") == f"{cluster.urls[2]}/tasks/epoch-1/t1"
    calls = [(r["controller"], r["path"]) for r in cluster.requests()]
    assert calls[0] == (0, "/apis/v1/tasks/epoch-1/instances/t1")
    assert calls[-1] == (2, "/apis/v1/tasks/epoch-1/instances/t1")
    assert (2, "/apis/v1/ping") in calls


def test_leader_is_rechecked_every_check_interval(cluster: DroveSimulator) -> None:
    config = drove_config(cluster.urls, check_interval=Duration(30, "milliseconds"))
    with DroveClient(config) as client:
        for _ in range(3):
            client.task_status("t1")
            time.sleep(0.04)
    assert controllers_called(cluster, "/apis/v1/ping") == [0, 0, 0]


def test_no_ping_between_checks(cluster: DroveSimulator) -> None:
    with DroveClient(drove_config(cluster.urls, check_interval=Duration(1, "hours"))) as client:
        for _ in range(5):
            client.task_status("t1")
    assert controllers_called(cluster, "/apis/v1/ping") == [0]


def test_leader_refusing_connections_is_replaced(cluster: DroveSimulator) -> None:
    config = drove_config(cluster.urls, check_interval=Duration(1, "hours"))
    with DroveClient(config) as client:
        assert client.leader() == cluster.urls[0]
        cluster.refuse(0)
        cluster.set_leader(1)
        assert client.task_status("t1").not_found
        assert client.leader() == cluster.urls[1]


def test_start_during_a_leader_switch_creates_the_task_once(cluster: DroveSimulator) -> None:
    with DroveClient(drove_config(cluster.urls, rpc_retry_count=40)) as client:
        client.leader()
        cluster.set_leader(None)  # election underway: every controller answers "not the leader"
        cluster.timers.call_later(0.1, lambda: cluster.set_leader(2))
        outcome = client.start_task("t1", container_task())
    assert outcome.state is TaskState.STARTING
    assert [t.task_id for t in cluster.store.tasks()] == ["t1"]
    accepted = [r for r in cluster.requests(method="POST") if r["controller"] == 2]
    assert len(accepted) == 1


def test_without_a_leader_nothing_is_sent(cluster: DroveSimulator) -> None:
    cluster.set_leader(None)
    with DroveClient(drove_config(cluster.urls)) as client:
        outcome = client.start_task("t1", container_task())
        assert client.leader() is None
        assert client.log_link("t1") is None
    assert (outcome.state, outcome.error_message) == (TaskState.UNKNOWN, "No response from drove")
    assert "no Drove leader among" in outcome.detail
    assert {r["path"] for r in cluster.requests()} == {"/apis/v1/ping"}


def test_nothing_listening_never_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with DroveClient(drove_config([f"http://127.0.0.1:{port}"], rpc_retry_count=1)) as client:
        assert client.start_task("t1", container_task()).state is TaskState.UNKNOWN
        assert client.task_status("t1").state is TaskState.UNKNOWN
        assert client.kill_task("t1").success is False
        assert client.delete_task("t1") is False


@pytest.mark.parametrize("timeout_ms", [100, 200])
def test_calls_give_up_after_the_operation_timeout(
    simulator: DroveSimulator, timeout_ms: int
) -> None:
    config = drove_config([simulator.url], operation_timeout=Duration(timeout_ms, "milliseconds"))
    simulator.add_fault(Fault("delay-before", delay_s=1.0))
    with DroveClient(config) as client:
        started = time.monotonic()
        assert client.task_status("t1").state is TaskState.UNKNOWN
        elapsed = time.monotonic() - started
    assert timeout_ms / 1000 <= elapsed < 0.9
