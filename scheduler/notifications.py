"""Mail on run completion and failure (epoch-model.md §20), sent off the scheduling path.

``compose_mail`` decides from the run, its topology and the configuration whether to mail, whom,
and what, with the original's subjects and bodies. ``MailNotifier`` looks the run up when its event
arrives and hands the message to one sender thread, which retries a failing SMTP server a bounded
number of times; nothing the mail server does delays the scheduler.
"""

from __future__ import annotations

import email.policy
import logging
import queue
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from epoch_site.config import NotifyConfig
from scheduler.events import EpochEvent, EventType, Tag
from topologies.domain import (
    UNKNOWN_UPSTREAM,
    MailNotification,
    RunInfo,
    RunState,
    TaskState,
    TopologyDetails,
)

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
RETRY_DELAY_S = 1.0
SMTP_TIMEOUT_S = 10.0
# Subjects name long topology and run ids: keep them on one line (RFC 5322 allows 998 characters).
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


SUCCEEDED = (RunState.SUCCESSFUL, RunState.COMPLETED)


@dataclass(frozen=True)
class Mail:
    recipients: tuple[str, ...]
    subject: str
    body: str


def compose_mail(
    run: RunInfo, topology: TopologyDetails | None, config: NotifyConfig
) -> Mail | None:
    """The mail for a run that reached ``run.state``, or None when none is due."""
    if not mail_due(run.state, config):
        return None
    succeeded = run.state in SUCCEEDED
    recipients = _recipients(topology, config)
    if not recipients:
        return None
    name = f"{run.topology_id}/{run.run_id}"
    if succeeded:
        task_ids = ", ".join(record.task_id for record in run.tasks.values())
        body = f"Tasks completed: [{task_ids}] in {run.updated - run.created} ms"
        return Mail(recipients, f"Topology run {name} completed successfully", body)
    return Mail(recipients, f"Topology run {name} failed", _failure_body(run))


def mail_due(state: RunState, config: NotifyConfig) -> bool:
    """Whether a run reaching ``state`` is mailed at all (before anything is read)."""
    if config.type != "MAIL" or state in (RunState.RUNNING, RunState.SKIPPED):
        return False
    return not (state in SUCCEEDED and config.disable_for_successful_runs)


def _recipients(topology: TopologyDetails | None, config: NotifyConfig) -> tuple[str, ...]:
    notify = topology.topology.notify if topology else None
    if isinstance(notify, MailNotification) and notify.emails:
        return notify.emails
    return config.default_emails


def _failure_body(run: RunInfo) -> str:
    for wanted, ending in (
        (TaskState.FAILED, "failed with error: {error}"),
        (TaskState.CANCELLED, "was cancelled"),
    ):
        record = next((r for r in run.tasks.values() if r.state is wanted), None)
        if record is not None:
            upstream = record.upstream_id or UNKNOWN_UPSTREAM
            detail = ending.format(error=record.error_message or "")
            return f"Task {record.task_id} with upstream ID {upstream} {detail}"
    return f"Run failed with error: {run.message}"


class SmtpSender:
    def __init__(self, config: NotifyConfig) -> None:
        self.config = config

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage(policy=MAIL_POLICY)
        sender = self.config.from_address or ""
        message["From"] = formataddr((self.config.from_name or sender, sender))
        message["To"] = ", ".join(mail.recipients)
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        return message

    def send(self, mail: Mail) -> None:
        host, port = self.config.smtp_server or "localhost", self.config.port
        if port == 465:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S)
        else:
            connection = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
        with connection as smtp:
            self._secure(smtp, port)
            if self.config.username:
                smtp.login(self.config.username, self.config.password or "")
            smtp.send_message(self.message(mail))

    def _secure(self, smtp: smtplib.SMTP, port: int) -> None:
        if port == 465:
            return
        smtp.ehlo()
        if self.config.tls or smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())  # tls: true makes it required
            smtp.ehlo()


class MailNotifier:
    """Subscribes to run events; composes and sends their mails on its own thread."""

    def __init__(
        self,
        config: NotifyConfig,
        load_run: Callable[[str, str], RunInfo | None],
        load_topology: Callable[[str], TopologyDetails | None],
        sender: SmtpSender | None = None,
    ) -> None:
        self.config = config
        self.load_run = load_run
        self.load_topology = load_topology
        self.sender = sender or SmtpSender(config)
        self._outbox: queue.Queue[Mail | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_loop, name="epoch-mail", daemon=True)
        self._thread.start()

    def __call__(self, event: EpochEvent) -> None:
        if event.type is not EventType.TOPOLOGY_RUN_STATE_CHANGED:
            return
        if not mail_due(RunState(event.metadata[Tag.NEW_STATE]), self.config):
            return
        topology_id = str(event.metadata[Tag.TOPOLOGY_ID])
        run_id = str(event.metadata[Tag.TOPOLOGY_RUN_ID])
        run = event.run or self.load_run(topology_id, run_id)
        if run is None:
            log.warning("No mail for %s/%s: the run record is gone", topology_id, run_id)
            return
        mail = compose_mail(run, self.load_topology(topology_id), self.config)
        if mail is not None:
            self._outbox.put(mail)

    def close(self, timeout_s: float = 10.0) -> None:
        self._outbox.put(None)
        self._thread.join(timeout_s)

    def _send_loop(self) -> None:
        while (mail := self._outbox.get()) is not None:
            self._send_with_retries(mail)

    def _send_with_retries(self, mail: Mail) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                self.sender.send(mail)
                return
            except (OSError, smtplib.SMTPException) as error:
                log.warning("Mail '%s' not sent (attempt %d): %r", mail.subject, attempt, error)
                time.sleep(RETRY_DELAY_S * attempt)
        log.error(
            "Mail '%s' to %s dropped after %d attempts",
            mail.subject,
            mail.recipients,
            SEND_ATTEMPTS,
        )
