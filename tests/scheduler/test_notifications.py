from __future__ import annotations

import time
from dataclasses import replace

import pytest

from epoch_site.config import NotifyConfig
from scheduler.events import EventBus, run_event
from scheduler.notifications import MailNotifier, compose_mail
from tests.support.smtp import smtp_server
from tests.support.zookeeper import free_port
from tests.topologies.storage import samples
from topologies.domain import (
    BlackholeNotification,
    MailNotification,
    RunInfo,
    RunState,
    TaskRecord,
    TaskState,
    TopologyDetails,
)

MAIL = NotifyConfig(
    type="MAIL", smtp_server="127.0.0.1", from_address="epoch@example.com", from_name="Epoch"
)
TASK_ID = "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task"


def run_in(
    state: RunState,
    task_state: TaskState = TaskState.COMPLETED,
    error: str = "",
    upstream: str | None = TASK_ID,
) -> RunInfo:
    run = samples.run()
    record = TaskRecord(TASK_ID, task_state, upstream, error)
    message = (
        "Task Failed with error: boom"
        if task_state is TaskState.PENDING
        else f"Task {state.value.lower()}"
    )
    finished = run.with_task("docker-task", record, run.created + 12034)
    return finished.finished(state, message, run.created + 12034)


def topology(notify: object = MailNotification(("test@email.com",))) -> TopologyDetails:
    details = samples.topology()
    return replace(details, topology=replace(details.topology, notify=notify))


class TestCompose:
    def test_success_mail(self) -> None:
        mail = compose_mail(run_in(RunState.SUCCESSFUL), topology(), MAIL)
        assert mail is not None
        assert mail.recipients == ("test@email.com",)
        assert (
            mail.subject
            == "Topology run nightly-report/ESR-2024-10-18-02-30-00-000 completed successfully"
        )
        assert mail.body == f"Tasks completed: [{TASK_ID}] in 12034 ms"

    def test_failed_task_mail(self) -> None:
        run = run_in(RunState.FAILED, TaskState.FAILED, "Task instance exited with status: 3")
        mail = compose_mail(run, topology(), MAIL)
        assert mail is not None
        assert mail.subject == "Topology run nightly-report/ESR-2024-10-18-02-30-00-000 failed"
        assert (
            mail.body
            == f"Task {TASK_ID} with upstream ID {TASK_ID} failed with error: Task instance exited with status: 3"
        )

    def test_cancelled_task_mail_says_cancelled(self) -> None:
        mail = compose_mail(run_in(RunState.FAILED, TaskState.CANCELLED), topology(), MAIL)
        assert mail is not None
        assert mail.body == f"Task {TASK_ID} with upstream ID {TASK_ID} was cancelled"

    def test_internal_error_mail_carries_the_run_message(self) -> None:
        mail = compose_mail(
            run_in(RunState.FAILED, TaskState.PENDING, upstream=None), topology(), MAIL
        )
        assert mail is not None
        assert mail.body == "Run failed with error: Task Failed with error: boom"

    def test_absent_upstream_reads_unknown(self) -> None:
        run = run_in(RunState.FAILED, TaskState.FAILED, "x", upstream=None)
        mail = compose_mail(run, topology(), MAIL)
        assert mail is not None and "with upstream ID UNKNOWN failed" in mail.body

    @pytest.mark.parametrize("state", [RunState.RUNNING, RunState.SKIPPED])
    def test_no_mail_for_running_or_skipped(self, state: RunState) -> None:
        assert compose_mail(run_in(state), topology(), MAIL) is None

    @pytest.mark.parametrize("state", [RunState.SUCCESSFUL, RunState.COMPLETED])
    def test_success_mails_can_be_disabled(self, state: RunState) -> None:
        config = replace(MAIL, disable_for_successful_runs=True)
        assert compose_mail(run_in(state), topology(), config) is None
        assert (
            compose_mail(run_in(RunState.FAILED, TaskState.FAILED), topology(), config) is not None
        )

    def test_blackhole_topology_mails_the_default_addresses(self) -> None:
        config = replace(MAIL, default_emails=("ops@example.com",))
        mail = compose_mail(run_in(RunState.SUCCESSFUL), topology(BlackholeNotification()), config)
        assert mail is not None and mail.recipients == ("ops@example.com",)
        assert (
            compose_mail(run_in(RunState.SUCCESSFUL), topology(BlackholeNotification()), MAIL)
            is None
        )

    def test_missing_topology_falls_back_to_defaults(self) -> None:
        config = replace(MAIL, default_emails=("ops@example.com",))
        mail = compose_mail(run_in(RunState.FAILED, TaskState.FAILED), None, config)
        assert mail is not None and mail.recipients == ("ops@example.com",)

    def test_blackhole_configuration_sends_nothing(self) -> None:
        assert compose_mail(run_in(RunState.SUCCESSFUL), topology(), NotifyConfig()) is None


def topology_of(topology_id: str) -> TopologyDetails:
    return topology(MailNotification(("a@x.com",)))


class TestDelivery:
    def test_mail_arrives_at_a_real_smtp_server(self) -> None:
        run = run_in(RunState.SUCCESSFUL)
        details = topology(MailNotification(("a@x.com", "b@x.com")))
        with smtp_server() as (inbox, port):
            notifier = MailNotifier(replace(MAIL, port=port), lambda t, r: run, lambda t: details)
            bus = EventBus()
            bus.subscribe(notifier)
            bus.publish(run_event(run))
            (message,) = inbox.wait_for(1)
            bus.close()
            notifier.close()
        assert (
            message["Subject"]
            == "Topology run nightly-report/ESR-2024-10-18-02-30-00-000 completed successfully"
        )
        assert message["From"] == "Epoch <epoch@example.com>"
        assert message["To"] == "a@x.com, b@x.com"
        assert message.get_content().strip() == f"Tasks completed: [{TASK_ID}] in 12034 ms"
        assert inbox.envelopes == [("epoch@example.com", ["a@x.com", "b@x.com"])]

    def test_no_mail_when_the_run_record_is_gone(self) -> None:
        failed = run_in(RunState.FAILED, TaskState.FAILED)
        with smtp_server() as (inbox, port):
            notifier = MailNotifier(replace(MAIL, port=port), lambda t, r: None, topology_of)
            notifier(replace(run_event(failed), run=None))  # an event that does not carry it
            notifier.close()
            assert inbox.messages == []

    def test_reads_only_what_a_due_mail_needs(self) -> None:
        loads: list[str] = []

        def load_run(topology_id: str, run_id: str) -> None:
            loads.append(f"run {run_id}")

        def load_topology(topology_id: str) -> TopologyDetails:
            loads.append("topology")
            return topology_of(topology_id)

        with smtp_server() as (inbox, port):
            notifier = MailNotifier(replace(MAIL, port=port), load_run, load_topology)
            for state in (RunState.RUNNING, RunState.SKIPPED, RunState.SUCCESSFUL):
                notifier(run_event(run_in(state)))
            inbox.wait_for(1)
            notifier.close()
        assert loads == ["topology"]  # the event carried its run; only the finished run mailed

    def test_unreachable_smtp_server_delays_nothing_and_is_retried(self) -> None:
        run = run_in(RunState.FAILED, TaskState.FAILED)
        port = free_port()  # nothing listens here yet
        notifier = MailNotifier(replace(MAIL, port=port), lambda t, r: run, lambda t: topology())
        started = time.monotonic()
        notifier(run_event(run))
        assert time.monotonic() - started < 0.5
        with smtp_server(port) as (inbox, _):
            (message,) = inbox.wait_for(1, timeout_s=15)
        notifier.close()
        assert message["Subject"].endswith("failed")
