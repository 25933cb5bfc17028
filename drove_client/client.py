"""Epoch's Drove client: start, read, list, kill and delete tasks (drove-api.md §9).

Every call is a short, bounded piece of work a scheduler can run from a worker pool; nothing here
keeps a thread per run. A scheduler following N runs polls with one ``active_tasks()`` per tick and
reads a task with ``task_status()`` only once it left that list (its final state).

Invariants:
* a CREATE is never blindly repeated after Drove accepted it: a retried CREATE that Drove answers
  "Task already exists" is turned into a read of the existing task (attach), so a task runs at
  most once however often the start is retried or recovered;
* only answers that prove nothing happened (no answer, 502/503/504, "not the leader") are retried,
  with capped exponential back-off inside the ``rpcRetryCount`` x ``rpcRetryInterval`` budget;
* every outcome carries the exact message texts of epoch-model.md §15.3/§15.4; no ``requests``
  exception leaves this module, and only ``active_tasks`` raises (a typed ``DroveError``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from drove_client.errors import (
    ALREADY_EXISTS,
    ATTACH_ERROR,
    ATTACH_UNASCERTAINED,
    CANCEL_ACCEPTED,
    CANCEL_FAILED_ERROR,
    CANCEL_FAILED_STATUS,
    CANCEL_NOT_SENT,
    HTTP_CALL_ERROR,
    NO_RESPONSE,
    NO_SUCH_TASK,
    OPERATIONS_PATH,
    RECEIVED_ERROR,
    STATUS_ERROR,
    STATUS_UNASCERTAINED,
    UNKNOWN_TASK_STATE,
    UNKNOWN_UPSTREAM_ID,
    DroveAnswerError,
    DroveUnreachable,
)
from drove_client.results import CancelResponse, StartOutcome, StatusOutcome, TaskInfo
from drove_client.states import TaskState
from drove_client.taskspec import build_task_spec, create_operation, kill_operation
from drove_client.transport import Backoff, Reply, Transport
from epoch_site.config import DroveConfig

log = logging.getLogger(__name__)

ACTIVE_TASKS_PATH = "/apis/v1/tasks"
_RETRIED_STATUSES = frozenset({502, 503, 504})


class DroveClient:
    """Talks to the Drove leader for one Epoch deployment (``config.app_name`` = source app).

    ``retry_interval_s`` overrides ``rpcRetryInterval`` (tests use 10 ms); ``sleep`` is the wait
    between retries. Thread-safe: one instance serves a whole worker pool.
    """

    def __init__(
        self,
        config: DroveConfig,
        *,
        retry_interval_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 64,
    ) -> None:
        self.config = config
        self.app_name = config.app_name
        self.transport = Transport(config, pool_size=pool_size)
        interval_s = (
            config.rpc_retry_interval.seconds if retry_interval_s is None else retry_interval_s
        )
        self.backoff = Backoff(config.rpc_retry_count or 10, interval_s)
        self._sleep = sleep

    def __enter__(self) -> DroveClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    # --- start --------------------------------------------------------------------------------

    def start_task(self, task_id: str, task: Mapping[str, Any]) -> StartOutcome:
        """CREATE ``task`` (an Epoch container-task definition) as ``task_id``; attach if it exists.

        Blocks for at most the retry budget (plus request time-outs) when Drove does not answer.
        """
        try:
            return self.create_task(build_task_spec(task, task_id, self.app_name))
        except Exception as error:  # a local error becomes the task's record, never a crash
            log.exception("Could not start Drove task %s", task_id)
            return StartOutcome(
                task_id,
                TaskState.FAILED,
                UNKNOWN_UPSTREAM_ID,
                UNKNOWN_TASK_STATE,
                detail=str(error),
            )

    def create_task(self, spec: Mapping[str, Any]) -> StartOutcome:
        """CREATE a ready-made Drove ``TaskSpec`` (as ``build_task_spec`` returns it)."""
        task_id = str(spec["taskId"])
        body = create_operation(spec, self.config.cluster_op_spec)
        delays = self.backoff.delays()
        attempts = 0
        while True:
            attempts += 1
            answer = self._send_create(body)
            if isinstance(answer, Reply) and not _proves_nothing(answer):
                return self._create_answered(task_id, answer, attempts)
            delay = next(delays, None)
            if delay is None:
                return self._create_unanswered(task_id, answer, attempts)
            log.warning(
                "CREATE of %s unanswered, retry in %.3fs: %s", task_id, delay, _said(answer)
            )
            self._sleep(delay)

    def _send_create(self, body: Mapping[str, Any]) -> Reply | DroveUnreachable:
        try:
            return self.transport.send("POST", OPERATIONS_PATH, body)
        except DroveUnreachable as error:
            return error

    def _create_answered(self, task_id: str, reply: Reply, attempts: int) -> StartOutcome:
        if reply.succeeded:
            # DEBUG: a busy leader starts hundreds a second; the task's STARTING event says it too.
            log.debug("Drove accepted task %s (Drove id %s)", task_id, _drove_id(reply))
            return StartOutcome(
                task_id, TaskState.STARTING, task_id, "", detail=reply.describe(), attempts=attempts
            )
        if 400 <= reply.status < 500 and any(ALREADY_EXISTS in e for e in reply.errors):
            log.info("Drove already has task %s; attaching to it", task_id)
            return self._attach(task_id, attempts)
        log.error("Drove rejected task %s: %s", task_id, reply.describe())
        return StartOutcome(
            task_id,
            TaskState.FAILED,
            UNKNOWN_UPSTREAM_ID,
            RECEIVED_ERROR.format(status=reply.status, body=reply.body),
            detail=reply.describe(),
            attempts=attempts,
        )

    def _create_unanswered(
        self, task_id: str, last: Reply | DroveUnreachable, attempts: int
    ) -> StartOutcome:
        broken = isinstance(last, DroveUnreachable) and last.kind == "broken"
        cause = last.__cause__ if isinstance(last, DroveUnreachable) else None
        message = HTTP_CALL_ERROR.format(message=cause) if broken else NO_RESPONSE
        detail = _said(last)
        log.error("CREATE of %s unanswered after %d attempts: %s", task_id, attempts, detail)
        return StartOutcome(
            task_id,
            TaskState.UNKNOWN,
            task_id,
            message,
            indeterminate=True,
            detail=detail,
            attempts=attempts,
        )

    def _attach(self, task_id: str, attempts: int) -> StartOutcome:
        """Read the task Drove already has, retrying while it is not (yet) known."""
        delays = self.backoff.delays()
        while True:
            read, local_error = self._read_existing(task_id)
            if read.info is not None and read.state is not TaskState.UNKNOWN:
                return StartOutcome(
                    task_id,
                    read.state,
                    read.info.task_id,
                    read.error_message,
                    attached=True,
                    info=read.info,
                    detail=read.detail,
                    attempts=attempts,
                )
            delay = next(delays, None)
            if delay is None:
                return _attach_failed(task_id, read, local_error, attempts)
            self._sleep(delay)

    def _read_existing(self, task_id: str) -> tuple[StatusOutcome, Exception | None]:
        try:
            return self._read_status(task_id), None
        except Exception as error:  # recorded on the task like any unreadable answer
            log.exception("Reading existing Drove task %s failed", task_id)
            return StatusOutcome(task_id, TaskState.UNKNOWN, "", detail=str(error)), error

    # --- read -----------------------------------------------------------------------------------

    def task_status(self, task_id: str) -> StatusOutcome:
        """One read of the task (``GET .../instances/<task_id>``); never raises."""
        try:
            return self._read_status(task_id)
        except Exception as error:  # a local bug is recorded on the task instead of stopping polls
            log.exception("Reading Drove task %s failed", task_id)
            return StatusOutcome(
                task_id, TaskState.UNKNOWN, STATUS_ERROR.format(message=error), detail=str(error)
            )

    def _read_status(self, task_id: str) -> StatusOutcome:
        try:
            reply = self._send_once("GET", self.task_path(task_id))
        except DroveUnreachable as error:
            return StatusOutcome(
                task_id, TaskState.UNKNOWN, STATUS_UNASCERTAINED, detail=str(error)
            )
        info = _task_info(reply.data) if reply.succeeded else None
        if info is not None:
            return StatusOutcome(
                task_id, info.state, info.error_message, info, detail=reply.describe()
            )
        not_found = reply.status == 200 and NO_SUCH_TASK in reply.message
        return StatusOutcome(
            task_id,
            TaskState.UNKNOWN,
            STATUS_UNASCERTAINED,
            not_found=not_found,
            detail=reply.describe(),
        )

    def active_tasks(self) -> dict[str, TaskInfo]:
        """This deployment's tasks Drove is running, by task id, in one call.

        Drove lists tasks with a live runner in PENDING … DEPROVISIONING; a task that left the
        list has ended (or was never scheduled): read it with ``task_status``. Raises
        ``DroveUnreachable`` or ``DroveAnswerError`` when there is no usable answer.
        """
        reply = self._send_once("GET", ACTIVE_TASKS_PATH)
        if not reply.succeeded or not isinstance(reply.data, list):
            raise DroveAnswerError(reply.call, reply.status, reply.body)
        tasks: dict[str, TaskInfo] = {}
        for item in reply.data:
            info = _task_info(item)
            if info is not None and info.app_name == self.app_name:
                tasks[info.task_id] = info
        return tasks

    # --- kill and delete ------------------------------------------------------------------------

    def kill_task(self, task_id: str) -> CancelResponse:
        """Ask Drove to kill the task; the poller later observes ``CANCELLED`` (or the end)."""
        try:
            reply = self._send_once("POST", OPERATIONS_PATH, kill_operation(self.app_name, task_id))
        except DroveUnreachable as error:
            log.error("KILL of %s not sent: %s", task_id, error)
            return CancelResponse(False, CANCEL_NOT_SENT, str(error))
        except Exception as error:  # the original's "local error" answer, never an exception
            log.exception("KILL of %s failed", task_id)
            return CancelResponse(False, CANCEL_FAILED_ERROR.format(message=error), str(error))
        return _cancel_response(reply)

    def delete_task(self, upstream_id: str | None) -> bool:
        """Delete Drove's record of a finished task; True when deleted, absent or never started."""
        if not upstream_id or upstream_id == UNKNOWN_UPSTREAM_ID:
            return True
        try:
            reply = self._send_once("DELETE", self.task_path(upstream_id))
        except DroveUnreachable as error:
            log.error("Could not delete Drove task %s: %s", upstream_id, error)
            return False
        data = reply.data if reply.succeeded else None
        deleted = isinstance(data, Mapping) and data.get("deleted") is True
        if not deleted:
            log.error("Drove did not delete task %s: %s", upstream_id, reply.describe())
        return deleted

    # --- leader and links -----------------------------------------------------------------------

    def leader(self) -> str | None:
        """Base URL of the Drove leader (probing when due); None when no controller leads."""
        return self.transport.leader.current()

    def log_link(self, upstream_id: str | None) -> str | None:
        """Drove's page for the task, on the leader; None without an upstream id or a leader."""
        if not upstream_id or upstream_id == UNKNOWN_UPSTREAM_ID:
            return None
        leader = self.transport.leader.known() or self.transport.leader.current()
        if leader is None:
            return None
        return f"{leader}/tasks/{quote(self.app_name, safe='')}/{quote(upstream_id, safe='')}"

    def task_path(self, task_id: str) -> str:
        return f"/apis/v1/tasks/{quote(self.app_name, safe='')}/instances/{quote(task_id, safe='')}"

    def _send_once(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        """One request; sent again (once) to a re-discovered leader if the first did nothing."""
        several = not self.transport.leader.single
        try:
            reply = self.transport.send(method, path, body)
        except DroveUnreachable as error:
            if error.delivered or not several:
                raise
            return self.transport.send(method, path, body)
        if reply.from_non_leader and several:
            return self.transport.send(method, path, body)
        return reply


def _attach_failed(
    task_id: str, last: StatusOutcome, local_error: Exception | None, attempts: int
) -> StartOutcome:
    """Drove said the task exists but it could not be read within the retry budget."""
    message = ATTACH_ERROR.format(message=local_error) if local_error else ATTACH_UNASCERTAINED
    log.error("Could not read existing Drove task %s: %s", task_id, last.detail)
    return StartOutcome(
        task_id,
        TaskState.UNKNOWN,
        task_id,
        message,
        attached=True,
        info=last.info,
        detail=last.detail,
        attempts=attempts,
    )


def _proves_nothing(reply: Reply) -> bool:
    """A gateway error or "not the leader": Drove did not act on the CREATE."""
    return reply.status in _RETRIED_STATUSES or reply.from_non_leader


def _said(answer: Reply | DroveUnreachable) -> str:
    """What Drove said (or why it said nothing), naming the call."""
    return answer.describe() if isinstance(answer, Reply) else str(answer)


def _drove_id(reply: Reply) -> str:
    data = reply.data
    return str(data.get("taskId")) if isinstance(data, Mapping) else "?"


def _task_info(data: Any) -> TaskInfo | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return TaskInfo.from_drove(data)
    except ValueError:
        return None


def _cancel_response(reply: Reply) -> CancelResponse:
    if reply.succeeded:
        return CancelResponse(True, CANCEL_ACCEPTED, reply.describe())
    if reply.status in (200, 400) and reply.envelope is not None:
        message = CANCEL_FAILED_ERROR.format(message=reply.message)
        return CancelResponse(False, message, reply.describe())
    message = CANCEL_FAILED_STATUS.format(status=reply.status, body=reply.body)
    return CancelResponse(False, message, reply.describe())
