"""H. Notifications and events (scenarios.md 105-112): mail at a real SMTP server, event log lines.

``flush_mail`` waits until every event so far has been handled and its mail sent, so "no mail" is
asserted on a settled notifier, never after a sleep.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.scenarios.conftest import (
    FROM_ADDRESS,
    FROM_NAME,
    NEVER,
    Epoch,
    cron_topology,
    scripted,
    task_id,
)

TOPO = "TEST_TOPO-1"
UI_FORM = {
    "name": TOPO,
    "cron": NEVER,
    "docker": "docker.io/santanusinha/perf-test-server:0.3",
    "cpus": 1,
    "memory": 512,
    "notifyEmail": "a@x.com, b@x.com",
}


def instant_run(epoch: Epoch, body: dict[str, Any]) -> dict[str, Any]:
    """Create the topology, run it now and let the run finish; the finished run."""
    epoch.create(body)
    run = epoch.run_now(body["name"])
    epoch.settle()
    return epoch.run(body["name"], run)


def upstream_of(run: dict[str, Any]) -> tuple[str, str]:
    record = run["tasks"]["test-task-1"]
    return record["taskId"], record["upstreamId"]


def test_completed_instant_run_is_mailed(epoch: Epoch) -> None:
    """Scenario 105."""
    run = instant_run(epoch, cron_topology(cron=NEVER))
    assert run["state"] == "COMPLETED"
    (mail,) = epoch.flush_mail()
    assert (mail["To"], mail["From"]) == ("test@email.com", f"{FROM_NAME} <{FROM_ADDRESS}>")
    assert mail["Subject"] == f"Topology run {TOPO}/{run['runId']} completed successfully"
    elapsed = run["updated"] - run["created"]
    assert mail.get_content().strip() == (
        f"Tasks completed: [{task_id(TOPO, run['runId'])}] in {elapsed} ms"
    )


def test_no_mail_for_successful_runs_when_disabled(start_epoch: Callable[..., Epoch]) -> None:
    """Scenario 106: disableForSuccessfulRuns; a SUCCESSFUL cron run and a COMPLETED instant run."""
    epoch = start_epoch(disable_for_successful_runs=True)
    epoch.create(cron_topology())
    epoch.advance_to(5)
    run = epoch.run_now(TOPO)
    epoch.settle()
    assert {(r["runId"], r["state"]) for r in epoch.runs()} == {
        (epoch.fire_id(5), "SUCCESSFUL"),
        (run, "COMPLETED"),
    }
    assert epoch.flush_mail() == []


def test_failed_run_mail_names_the_exit_status(epoch: Epoch) -> None:
    """Scenario 107: exit 3."""
    run = instant_run(epoch, cron_topology(cron=NEVER, env=scripted("fail", exit_code="3")))
    (mail,) = epoch.flush_mail()
    task, upstream = upstream_of(run)
    assert mail["Subject"] == f"Topology run {TOPO}/{run['runId']} failed"
    assert mail.get_content().strip() == (
        f"Task {task} with upstream ID {upstream} failed with error: "
        "Task instance exited with status: 3"
    )


def test_killed_run_mail_says_cancelled(epoch: Epoch) -> None:
    """Scenario 108."""
    run = epoch.start_long_run()
    assert epoch.kill(TOPO, run)["status"] == "SUCCESS"
    epoch.settle()
    task, upstream = upstream_of(epoch.run(TOPO, run))
    (mail,) = epoch.flush_mail()
    assert mail["Subject"] == f"Topology run {TOPO}/{run} failed"
    assert mail.get_content().strip() == f"Task {task} with upstream ID {upstream} was cancelled"


@pytest.mark.parametrize(
    ("defaults", "recipients"),
    [(("ops@example.com",), ["ops@example.com"]), ((), [])],
    ids=["default-emails", "no-defaults"],
)
def test_blackhole_topology_mails_only_the_default_recipients(
    start_epoch: Callable[..., Epoch], defaults: tuple[str, ...], recipients: list[str]
) -> None:
    """Scenario 109: notify BLACKHOLE with and without notify.defaultEmails."""
    epoch = start_epoch(default_emails=defaults)
    run = instant_run(epoch, cron_topology(cron=NEVER) | {"notify": {"type": "BLACKHOLE"}})
    assert run["state"] == "COMPLETED"
    assert [mail["To"] for mail in epoch.flush_mail()] == recipients


def test_running_skipped_and_task_events_are_not_mailed(epoch: Epoch) -> None:
    """Scenario 110: a RUNNING run, a SKIPPED fire and task events; no mail."""
    epoch.start_long_run()
    epoch.advance_to(10, lambda: len(epoch.runs()) == 2)
    assert epoch.flush_mail() == []
    seen = {(event.type.value, event.metadata["NEW_STATE"]) for event in epoch.notified}
    assert seen == {
        ("TOPOLOGY_RUN_STATE_CHANGED", "RUNNING"),
        ("TOPOLOGY_RUN_STATE_CHANGED", "SKIPPED"),
        ("TOPOLOGY_RUN_TASK_STATE_CHANGED", "STARTING"),
    }


def test_ui_created_topology_mails_every_listed_address(epoch: Epoch) -> None:
    """Scenario 111: UI create with notifyEmail "a@x.com, b@x.com"."""
    created = epoch.call("POST", "/topologies/create", UI_FORM)
    assert (created.status_code, created.json()["status"]) == (200, "SUCCESS")
    stored = epoch.call("GET", f"/apis/v1/topologies/{TOPO}").json()["data"]["topology"]
    assert stored["notify"] == {"type": "MAIL", "emails": ["a@x.com", "b@x.com"]}
    epoch.step()
    epoch.run_now(TOPO)
    epoch.settle()
    (mail,) = epoch.flush_mail()
    assert mail["To"] == "a@x.com, b@x.com"
    assert epoch.inbox.envelopes == [(FROM_ADDRESS, ["a@x.com", "b@x.com"])]


def test_events_of_a_run_are_logged_in_order_and_all_reach_the_notifier(
    epoch: Epoch, caplog: pytest.LogCaptureFixture
) -> None:
    """Scenario 112: `EPOCH_EVENT: ` lines for one successful single-task run."""
    caplog.set_level(logging.INFO, logger="epoch.events")
    epoch.create(cron_topology())
    run = epoch.fire_id(5)
    epoch.advance_to(5)
    epoch.engine.bus.drain()
    prefix = "EPOCH_EVENT: "
    logged = [
        json.loads(record.getMessage().removeprefix(prefix))
        for record in caplog.records
        if record.getMessage().startswith(prefix)
    ]
    of_run = [e for e in logged if e["metadata"].get("TOPOLOGY_RUN_ID") == run]
    assert [(e["type"], e["metadata"]["NEW_STATE"]) for e in of_run] == [
        ("TOPOLOGY_RUN_STATE_CHANGED", "RUNNING"),
        ("TOPOLOGY_RUN_TASK_STATE_CHANGED", "STARTING"),
        ("TOPOLOGY_RUN_TASK_STATE_CHANGED", "COMPLETED"),
        ("TOPOLOGY_RUN_STATE_CHANGED", "SUCCESSFUL"),
    ]
    assert [event.id for event in epoch.notified] == [e["id"] for e in of_run]
