"""Starting tasks: CREATE, rejections, retries, re-attaching, and exactly-once under faults."""

from __future__ import annotations

import time
from typing import Any

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator, Fault, SimUser
from drove_client.states import TaskState
from drove_client.transport import Backoff
from epoch_site.durations import Duration
from tests.drove_client.conftest import APP, container_task, drove_config, scripted, wait_for

TASK_ID = "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task"
CREATE = "POST /apis/v1/tasks/operations"


def creates(simulator: DroveSimulator) -> list[dict[str, Any]]:
    return simulator.requests(method="POST", path="/apis/v1/tasks/operations")


def test_accepted_create_is_starting_with_the_task_id_as_upstream_id(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.STARTING
    assert (outcome.upstream_id, outcome.error_message) == (TASK_ID, "")
    assert not outcome.indeterminate and not outcome.attached
    assert outcome.attempts == 1
    assert f'"taskId":"{APP}-{TASK_ID}"' in outcome.detail


def test_create_body_is_the_contracts_example(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    task = container_task(
        resources=[{"type": "CPU", "count": 2}, {"type": "MEMORY", "sizeInMB": 2048}],
        volumes=[{"pathInContainer": "/data", "pathOnHost": "/mnt/data", "mode": "READ_ONLY"}],
        configs=[],
        logging={"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
        tags={"team": "reports"},
        env={"REPORT_DATE": "yesterday"},
        args=["--verbose"],
    )
    client.start_task(TASK_ID, task)
    [request] = creates(simulator)
    assert request["body"] == {
        "type": "CREATE",
        "spec": {
            "sourceAppName": APP,
            "taskId": TASK_ID,
            "executable": {
                "type": "DOCKER",
                "url": "ghcr.io/acme/report-job:1.4.2",
                "dockerPullTimeout": "120 seconds",
            },
            "volumes": [
                {"pathInContainer": "/data", "pathOnHost": "/mnt/data", "mode": "READ_ONLY"}
            ],
            "configs": [],
            "logging": {"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
            "resources": [{"type": "CPU", "count": 2}, {"type": "MEMORY", "sizeInMB": 2048}],
            "placementPolicy": {"type": "ANY"},
            "tags": {"team": "reports"},
            "env": {"REPORT_DATE": "yesterday"},
            "args": ["--verbose"],
            "devices": [],
        },
        "opSpec": {"timeout": "300 seconds", "parallelism": 1, "failureStrategy": "STOP"},
    }


def test_missing_placement_is_sent_as_any_so_current_drove_accepts_it(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    assert simulator.settings.placement_required  # current Drove: no placement -> 500
    outcome = client.start_task(TASK_ID, container_task(placementPolicy=None))
    assert outcome.state is TaskState.STARTING
    [request] = creates(simulator)
    assert request["body"]["spec"]["placementPolicy"] == {"type": "ANY"}


def test_create_uses_the_configured_cluster_op_spec(simulator: DroveSimulator) -> None:
    op_spec = {"timeout": "10 minutes", "parallelism": 2, "failureStrategy": "ROLLBACK"}
    with DroveClient(drove_config([simulator.url], cluster_op_spec=op_spec)) as client:
        assert client.start_task(TASK_ID, container_task()).state is TaskState.STARTING
    assert creates(simulator)[0]["body"]["opSpec"] == op_spec


def test_engine_rejection_fails_the_task_with_droves_raw_answer(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    outcome = client.start_task(TASK_ID, container_task(resources=[{"type": "CPU", "count": 64}]))
    assert outcome.state is TaskState.FAILED
    assert outcome.upstream_id == "UNKNOWN"
    assert outcome.error_message == (
        'Received error from api: [400] {"status":"FAILED","data":{"validationErrors":'
        '["Cluster does not have enough CPU. Required: 64 Available: 12"]},'
        '"message":"Command validation failure"}'
    )
    assert len(creates(simulator)) == 1  # a rejection is never retried


def test_server_error_is_a_definitive_rejection(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    simulator.add_fault(Fault("status", status=500, match=CREATE))
    outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.FAILED
    assert outcome.error_message.startswith("Received error from api: [500] ")
    assert '"message":"Unexpected Server error"' in outcome.error_message
    assert outcome.attempts == 1


def test_success_status_200_with_failed_envelope_is_a_rejection(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    simulator.add_fault(Fault("status", status=200, match=CREATE))
    outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.FAILED
    assert outcome.error_message == (
        'Received error from api: [200] {"status":"FAILED","message":"Test failure"}'
    )


def test_unauthorised_create_is_a_rejection(simulator: DroveSimulator) -> None:
    simulator.settings.add_users(SimUser("admin", "admin"))
    config = drove_config([simulator.url], username="admin", password="wrong")
    with DroveClient(config) as client:
        outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.FAILED
    assert outcome.error_message == (
        "Received error from api: [401] Credentials are required to access this resource."
    )


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_until_drove_answers(
    client: DroveClient, simulator: DroveSimulator, status: int
) -> None:
    simulator.add_fault(Fault("status", status=status, match=CREATE, remaining=2))
    outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.STARTING
    assert outcome.attempts == 3
    assert [r["fault"] for r in creates(simulator)] == ["status", "status", None]
    assert len(simulator.store.tasks()) == 1


def test_not_the_leader_answer_is_retried(client: DroveClient, simulator: DroveSimulator) -> None:
    simulator.add_fault(Fault("not-leader", match=CREATE, remaining=1))
    outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.STARTING
    assert outcome.attempts == 2


def test_duplicate_create_attaches_to_the_running_task(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    task = scripted("success", DROVE_SIM_DURATION="5s")
    assert client.start_task(TASK_ID, task).state is TaskState.STARTING
    wait_for(lambda: client.task_status(TASK_ID).state, lambda s: s is TaskState.RUNNING)
    again = client.start_task(TASK_ID, task)
    assert again.attached
    assert again.state is TaskState.RUNNING
    assert (again.upstream_id, again.error_message) == (TASK_ID, "")
    assert again.info is not None and again.info.drove_state == "RUNNING"
    assert len(simulator.store.tasks()) == 1


def test_duplicate_of_a_finished_task_attaches_to_its_final_state(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    task = scripted("fail", DROVE_SIM_EXIT_CODE="3")
    client.start_task(TASK_ID, task)
    wait_for(lambda: client.task_status(TASK_ID).state, lambda s: s.is_terminal)
    again = client.start_task(TASK_ID, task)
    assert again.attached
    assert again.state is TaskState.FAILED
    assert again.error_message == "Task instance exited with status: 3"


def test_duplicate_answered_422_also_attaches(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    simulator.settings.validation_status = 422
    task = scripted("success", DROVE_SIM_DURATION="5s")
    client.start_task(TASK_ID, task)
    wait_for(lambda: client.task_status(TASK_ID).answered)
    again = client.start_task(TASK_ID, task)
    assert again.attached
    assert again.state in (TaskState.STARTING, TaskState.RUNNING)
    assert creates(simulator)[-1]["fault"] is None


def test_attach_that_cannot_read_the_task_is_unknown(simulator: DroveSimulator) -> None:
    simulator.settings.step_s = 1.0  # the never-scheduled task's runner lives two steps
    with DroveClient(drove_config([simulator.url])) as client:
        task = scripted("never-scheduled")
        assert client.start_task(TASK_ID, task).state is TaskState.STARTING
        again = client.start_task(TASK_ID, task)
    assert again.attached
    assert again.state is TaskState.UNKNOWN
    assert again.upstream_id == TASK_ID
    assert again.error_message == (
        "Could not ascertain if task has started or not. Please check drove logs for status"
    )
    reads = simulator.requests(method="GET", path=f"/instances/{TASK_ID}")
    assert len(reads) == 1 + len(list(client.backoff.delays()))


def test_drove_outage_loses_nothing_and_starts_the_task_once(simulator: DroveSimulator) -> None:
    config = drove_config([simulator.url], rpc_retry_count=100)  # up to 1 s of retries
    with DroveClient(config) as client:
        simulator.refuse(for_s=0.25)
        started = time.monotonic()
        outcome = client.start_task(TASK_ID, container_task())
    assert time.monotonic() - started >= 0.2
    assert outcome.state is TaskState.STARTING
    assert outcome.attempts > 1
    assert [t.task_id for t in simulator.store.tasks()] == [TASK_ID]
    assert len(creates(simulator)) == 1  # refused connections never reached the controller


def test_outage_longer_than_the_retry_budget_leaves_the_task_unknown(
    simulator: DroveSimulator,
) -> None:
    with DroveClient(drove_config([simulator.url])) as client:
        simulator.refuse()
        outcome = client.start_task(TASK_ID, container_task())
        assert outcome.state is TaskState.UNKNOWN
        assert outcome.indeterminate
        assert (outcome.upstream_id, outcome.error_message) == (TASK_ID, "No response from drove")
        assert outcome.attempts == 1 + len(list(client.backoff.delays()))
        assert "no response" in outcome.detail
        simulator.restore()
        assert client.task_status(TASK_ID).not_found  # Drove never saw it: re-sending is safe
        assert client.start_task(TASK_ID, container_task()).state is TaskState.STARTING
    assert len(simulator.store.tasks()) == 1


def test_create_answered_after_the_timeout_is_retried_and_attached_exactly_once(
    simulator: DroveSimulator,
) -> None:
    config = drove_config([simulator.url], operation_timeout=Duration(200, "milliseconds"))
    simulator.add_fault(Fault("delay", delay_s=0.5, match=CREATE, remaining=1))
    with DroveClient(config) as client:
        outcome = client.start_task(TASK_ID, scripted("success", DROVE_SIM_DURATION="5s"))
    assert outcome.attached
    assert outcome.state in (TaskState.STARTING, TaskState.RUNNING)
    assert outcome.upstream_id == TASK_ID
    assert outcome.attempts == 2
    assert [r["fault"] for r in creates(simulator)] == ["delay", None]
    assert len(simulator.store.tasks()) == 1


def test_connection_broken_mid_call_records_the_transport_error(simulator: DroveSimulator) -> None:
    simulator.add_fault(Fault("drop", match=CREATE))
    with DroveClient(drove_config([simulator.url])) as client:
        outcome = client.start_task(TASK_ID, container_task())
    assert outcome.state is TaskState.UNKNOWN
    assert outcome.indeterminate
    assert outcome.error_message.startswith("Error making http call to /apis/v1/tasks/operations: ")
    assert simulator.store.tasks() == []


def test_a_definition_drove_cannot_take_is_a_local_error_and_sends_nothing(
    client: DroveClient, simulator: DroveSimulator
) -> None:
    outcome = client.start_task(TASK_ID, {"taskName": "docker-task", "resources": []})
    assert outcome.state is TaskState.FAILED
    assert (outcome.upstream_id, outcome.error_message) == ("UNKNOWN", "Unknown task state")
    assert simulator.requests() == []


def test_retry_waits_follow_the_capped_exponential_backoff(simulator: DroveSimulator) -> None:
    waits: list[float] = []
    config = drove_config([simulator.url], rpc_retry_count=6)
    with DroveClient(config, retry_interval_s=0.001, sleep=waits.append) as client:
        simulator.refuse()
        client.start_task(TASK_ID, container_task())
    assert waits == list(Backoff(6, 0.001).delays())
    assert waits == pytest.approx([0.001, 0.002, 0.003])


def test_backoff_doubles_caps_and_stays_within_the_budget() -> None:
    assert list(Backoff(10, 3.0).delays()) == [3.0, 6.0, 12.0, 9.0]
    delays = list(Backoff(50, 0.01).delays())
    assert max(delays) == pytest.approx(0.08)
    assert sum(delays) == pytest.approx(0.5)
    assert len(delays) <= 50
    assert list(Backoff(0, 1.0).delays()) == []
