"""One simulated task: its script, its record, and the executor's next state report (§7).

``next_report`` is the executor's state machine: given where a task is and the outcome its env
scripted, it says which state is reported next and after how long. The progressions are those of
drove-api.md §7.3; a kill (or the leader's zombie check) turns the end of a run into
``RUN_COMPLETED`` with result ``CANCELLED``.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drove_client.simulator.engine import Allocation, requirements
from drove_client.simulator.settings import OUTCOMES, SimSettings
from epoch_site.durations import Duration, DurationError

log = logging.getLogger(__name__)

LISTED_STATES = frozenset(
    {"PENDING", "PROVISIONING", "STARTING", "RUNNING", "RUN_COMPLETED", "DEPROVISIONING"}
)
TERMINAL_STATES = frozenset({"STOPPED", "LOST"})
STATES = LISTED_STATES | TERMINAL_STATES | {"PROVISIONING_FAILED", "RUN_FAILED", "UNKNOWN"}


@dataclass(frozen=True)
class Script:
    """How a task will behave, chosen by its env (``DROVE_SIM_*``) or the defaults."""

    outcome: str
    exit_code: int = 0
    run_s: float = 1.0
    start_delay_s: float = 0.2

    @classmethod
    def from_env(cls, env: Mapping[str, str], settings: SimSettings) -> Script:
        exit_code = _int_or_none(env.get("DROVE_SIM_EXIT_CODE"))
        outcome = (env.get("DROVE_SIM_OUTCOME") or "").strip().lower()
        if outcome and outcome not in OUTCOMES:
            log.warning("Unknown DROVE_SIM_OUTCOME %r; expected one of %s", outcome, OUTCOMES)
        if outcome not in OUTCOMES:
            outcome = "fail" if exit_code else settings.default_outcome
        if outcome == "fail" and not exit_code:
            exit_code = 1
        if outcome != "fail":
            exit_code = 0  # only a failing run exits non-zero
        return cls(
            outcome=outcome,
            exit_code=exit_code or 0,
            run_s=_seconds(env.get("DROVE_SIM_DURATION"), settings.run_s),
            start_delay_s=_seconds(env.get("DROVE_SIM_START_DELAY"), settings.first_report_delay_s),
        )


@dataclass(frozen=True)
class Report:
    """One state report of the executor, due ``delay_s`` after the previous one."""

    delay_s: float
    state: str
    result: dict[str, Any] | None = None
    message: str = ""


@dataclass(eq=False)
class SimTask:
    app: str
    task_id: str
    spec: dict[str, Any]
    script: Script
    allocation: Allocation | None = None
    instance_id: str = field(default_factory=lambda: f"TI-{uuid.uuid4()}")
    container_id: str = field(default_factory=lambda: secrets.token_hex(32))
    state: str | None = None  # None: the executor has not reported yet
    recorded: bool = False  # the record exists (GET finds it)
    result: dict[str, Any] | None = None
    error_message: str = ""
    hostname: str | None = None
    created_ms: int | None = None
    updated_ms: int | None = None
    killed: bool = False  # a kill reached the executor: RUNNING ends CANCELLED
    zombie: bool = False  # killed before RUNNING: the leader kills it once it runs
    held: bool = False  # the control interface froze its progression
    holds_capacity: bool = False  # its allocation is still taken from the cluster
    history: list[str] = field(default_factory=list)  # every state reported, in order
    generation: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.task_id)

    @property
    def runner_key(self) -> str:
        # Drove keys runners by "<app>-<id>", so ("a-b", "c") and ("a", "b-c") collide.
        return f"{self.app}-{self.task_id}"

    @property
    def node(self) -> int:
        return self.allocation.node if self.allocation else 0

    def to_json(self) -> dict[str, Any]:
        """The ``TaskInfo`` Drove answers with, keys in Drove's order, nulls left out."""
        info: dict[str, Any] = {
            "sourceAppName": self.app,
            "taskId": self.task_id,
            "instanceId": self.instance_id,
            "executorId": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"executor-{self.node}.drove.sim")),
        }
        _put(info, "hostname", self.hostname)
        info["executable"] = self.spec.get("executable", {})
        info["resources"] = self._resources()
        for key, target in (("volumes", "volumes"), ("logging", "loggingSpec"), ("env", "env")):
            _put(info, target, self.spec.get(key))
        info.update(state=self.state, metadata={})
        _put(info, "taskResult", self.result)
        info.update(
            errorMessage=self.error_message, created=self.created_ms, updated=self.updated_ms
        )
        return info

    def _resources(self) -> list[dict[str, Any]]:
        if self.allocation is not None:
            return self.allocation.as_resources()
        cores, memory = requirements(self.spec)
        return Allocation(0, tuple(range(cores)), memory).as_resources()


def next_report(task: SimTask, settings: SimSettings) -> Report | None:
    """The executor's next report after ``task.state`` for the task's scripted outcome."""
    step, script = settings.step_s, task.script
    state = task.state
    if state == "PENDING":
        return Report(step, "PROVISIONING")
    if state == "PROVISIONING":
        if script.outcome == "pull-failure":
            url = task.spec.get("executable", {}).get("url", "")
            return Report(
                step,
                "PROVISIONING_FAILED",
                message=f"Error while pulling image {url}: manifest unknown",
            )
        return Report(step, "STARTING")
    if state == "STARTING":
        if script.outcome == "start-failure":
            failed = "RUN_FAILED" if settings.run_failed_state else "RUN_COMPLETED"
            message = f"Error creating container: no such image for {task.instance_id}"
            return Report(step, failed, task_result("FAILED", -1), message)
        return Report(step, "RUNNING")
    if state in ("RUN_COMPLETED", "RUN_FAILED", "PROVISIONING_FAILED"):
        return Report(step, "DEPROVISIONING")
    if state == "DEPROVISIONING":
        return Report(step, "STOPPED")
    if state == "UNKNOWN":
        return Report(step, "RUNNING")  # the executor came back and recovered the container
    return end_of_run(task, settings) if state == "RUNNING" else None


def end_of_run(task: SimTask, settings: SimSettings) -> Report:
    script = task.script
    if task.killed:
        # The zombie check (or the kill itself) stops it; Drove keeps the error message as it is.
        return Report(settings.step_s, "RUN_COMPLETED", task_result("CANCELLED", -1))
    if script.outcome == "lost":
        return Report(script.run_s, "LOST", task_result("LOST", -1), "Instance lost")
    if script.outcome == "vanish":
        message = f"Task instance lost for container: {task.container_id}"
        return Report(script.run_s, "RUN_COMPLETED", task_result("LOST", -1), message)
    if script.exit_code:
        message = f"Task instance exited with status: {script.exit_code}"
        return Report(
            script.run_s, "RUN_COMPLETED", task_result("FAILED", script.exit_code), message
        )
    return Report(script.run_s, "RUN_COMPLETED", task_result("SUCCESSFUL", 0))


def task_result(status: str, exit_code: int) -> dict[str, Any]:
    return {"status": status, "exitCode": exit_code}


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text.strip())
    except ValueError:
        return None


def _seconds(text: str | None, default: float) -> float:
    if not text:
        return default
    try:
        return Duration.parse(text).seconds
    except DurationError:
        log.warning("Ignoring DROVE_SIM_* duration %r: not a duration such as '2s'", text)
        return default


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value
