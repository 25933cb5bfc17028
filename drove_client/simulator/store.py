"""The simulated cluster's tasks: records, runners and their timers (drove-api.md §4.2, §5, §8).

A task has two halves, as in Drove:
* the **record** (``TaskInfo``) that GET answers with. It appears with the executor's first state
  report, not at CREATE, and stays until deleted or aged out by the retention sweep;
* the leader's **runner**, which makes the task killable, listed by ``GET /tasks`` and blocks a
  duplicate CREATE. A KILL before ``RUNNING`` drops it although the task goes on (the zombie check
  kills it if it ever reaches ``RUNNING``); so can a leader change for an undeployed source app.

Invariants:
* every state change happens on the timer thread (or a control call), never because of a read;
  each change bumps the task's ``generation`` so timers planned earlier become no-ops;
* ``STOPPED`` and ``LOST`` are terminal: the runner is gone and the capacity released;
* ``errorMessage`` is sticky once set; ``created`` never changes; ``updated`` moves on every report
  and every ``snapshot_s`` while ``RUNNING``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from drove_client.simulator.engine import (
    Allocation,
    Cluster,
    fits_executors,
    requirements,
    spec_errors,
)
from drove_client.simulator.lifecycle import (
    LISTED_STATES,
    TERMINAL_STATES,
    Report,
    Script,
    SimTask,
    next_report,
    task_result,
)
from drove_client.simulator.settings import SimSettings
from drove_client.simulator.timers import TimerThread

log = logging.getLogger(__name__)

DISPATCH_ATTEMPTS = 2  # Drove's start job tries twice before giving up on an unplaceable task


class Rejected(Exception):
    """A CREATE the engine refuses; ``errors`` are Drove's exact validation strings."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class TaskStore:
    """Every task of the simulated cluster; thread-safe, shared by all simulated controllers."""

    def __init__(
        self,
        settings: SimSettings,
        timers: TimerThread,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.settings = settings
        self.cluster = Cluster(settings)
        self._timers = timers
        self._clock_ms = clock_ms
        self._lock = threading.RLock()
        self._tasks: dict[tuple[str, str], SimTask] = {}
        self._runners: dict[str, SimTask] = {}

    # --- Drove API ------------------------------------------------------------------------------

    def check_spec(self, spec: Mapping[str, Any]) -> list[str]:
        """Engine rejections for ``spec`` without the duplicate check (validate/spec)."""
        with self._lock:
            return spec_errors(spec, self.settings, self.cluster)

    def create(self, spec: dict[str, Any]) -> None:
        """Accept a CREATE (the start job is scheduled) or raise ``Rejected``/``ServerError``."""
        with self._lock:
            errors = spec_errors(spec, self.settings, self.cluster)
            app, task_id = spec["sourceAppName"], spec["taskId"]
            if not errors and self._exists(app, task_id):
                errors = [f"Task already exists for {app}/{task_id} with taskID: {app}-{task_id}"]
            if errors:
                raise Rejected(errors)
            task = SimTask(
                app, task_id, spec, Script.from_env(spec.get("env") or {}, self.settings)
            )
            task.allocation = self._place(task)
            task.holds_capacity = task.allocation is not None
            if task.allocation is None:
                task.script = replace(task.script, outcome="never-scheduled")
            self._tasks[task.key] = task
            self._runners[task.runner_key] = task
            self._plan_first_report(task)

    def kill(self, app: str, task_id: str) -> bool:
        """A KILL: True when a stop job was scheduled, False for "does not exist or finished"."""
        with self._lock:
            task = self._runners.get(f"{app}-{task_id}")
            if task is None or task.state in TERMINAL_STATES:
                return False
            if task.state == "RUNNING":
                task.killed = True
                self._plan(
                    task,
                    Report(self.settings.step_s, "RUN_COMPLETED", task_result("CANCELLED", -1)),
                )
            else:
                # The executor only stops RUNNING tasks; the stop job fails and the runner is dropped.
                task.zombie = True
                self._drop_runner(task)
            return True

    def record(self, app: str, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            task = self._tasks.get((app, task_id))
            return task.to_json() if task is not None and task.recorded else None

    def listed(self) -> list[dict[str, Any]]:
        """``GET /tasks``: records of tasks with a live runner in an active state."""
        with self._lock:
            return [
                t.to_json()
                for t in self._runners.values()
                if t.recorded and t.state in LISTED_STATES
            ]

    def delete(self, app: str, task_id: str) -> bool:
        """Delete the record (idempotent); False only when the storage-error switch is on."""
        if self.settings.delete_fails:
            return False
        with self._lock:
            task = self._tasks.get((app, task_id))
            if task is not None:
                task.recorded = False  # an active task's next report writes it again
                if task.state in TERMINAL_STATES:
                    self._tasks.pop(task.key)
            return True

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"tasks": len(self._tasks), "runners": len(self._runners)}

    # --- leadership and retention ---------------------------------------------------------------

    def on_leader_change(self) -> None:
        """A new leader recreates runners only for tasks of deployed source apps (§8.2)."""
        deployed = self.settings.deployed_apps
        if deployed is None:
            return
        with self._lock:
            for task in [t for t in self._runners.values() if t.app not in deployed]:
                self._drop_runner(task)

    def sweep(self) -> int:
        """Retention: delete finished records older than ``retention_age_s``; returns how many."""
        oldest_ms = self._clock_ms() - int(self.settings.retention_age_s * 1000)
        deployed = self.settings.deployed_apps
        with self._lock:
            stale = [
                t
                for t in self._tasks.values()
                if t.recorded
                and t.state in TERMINAL_STATES
                and (t.updated_ms or 0) < oldest_ms
                and (deployed is None or t.app in deployed)
            ]
            for task in stale:
                self._tasks.pop(task.key)
            return len(stale)

    # --- control interface ----------------------------------------------------------------------

    def tasks(self) -> list[SimTask]:
        with self._lock:
            return list(self._tasks.values())

    def task(self, app: str, task_id: str) -> SimTask | None:
        with self._lock:
            return self._tasks.get((app, task_id))

    def has_runner(self, task: SimTask) -> bool:
        with self._lock:
            return self._runners.get(task.runner_key) is task

    def seed(
        self,
        spec: dict[str, Any],
        state: str,
        *,
        result: dict[str, Any] | None = None,
        error_message: str = "",
        runner: bool = True,
        hold: bool = False,
    ) -> SimTask:
        """Put a task straight into ``state`` (no engine checks); it progresses from there."""
        with self._lock:
            task = SimTask(
                spec["sourceAppName"],
                spec["taskId"],
                spec,
                Script.from_env(spec.get("env") or {}, self.settings),
            )
            self._tasks[task.key] = task
            if runner and state not in TERMINAL_STATES:
                self._runners[task.runner_key] = task
            self.force(task, state, result=result, error_message=error_message, hold=hold)
            return task

    def force(
        self,
        task: SimTask,
        state: str,
        *,
        result: dict[str, Any] | None = None,
        error_message: str | None = None,
        hold: bool = False,
    ) -> None:
        """Report ``state`` now (overriding the plan); progression resumes from it unless held."""
        with self._lock:
            task.held = hold
            if error_message is not None:
                task.error_message = error_message
            self._apply(task, Report(0, state, result))

    def forget(self, task: SimTask, *, record: bool = True, runner: bool = True) -> None:
        """Drop the record and/or the runner without any of Drove's side effects."""
        with self._lock:
            if runner:
                self._drop_runner(task)
            if record:
                task.recorded = False
            if record and runner and self._tasks.get(task.key) is task:
                self._tasks.pop(task.key)
                task.generation += 1
                self._release(task)

    def clear(self) -> None:
        with self._lock:
            for task in self._tasks.values():
                task.generation += 1
                self._release(task)
            self._tasks.clear()
            self._runners.clear()

    # --- the state machine --------------------------------------------------------------------

    def _exists(self, app: str, task_id: str) -> bool:
        task = self._tasks.get((app, task_id))
        return f"{app}-{task_id}" in self._runners or (task is not None and task.recorded)

    def _place(self, task: SimTask) -> Allocation | None:
        if task.script.outcome == "never-scheduled" or not fits_executors(task.spec, self.settings):
            return None
        return self.cluster.allocate(*requirements(task.spec))

    def _plan_first_report(self, task: SimTask) -> None:
        if task.script.outcome != "never-scheduled":
            first = "PENDING" if self.settings.report_pending else "PROVISIONING"
            self._plan(task, Report(task.script.start_delay_s, first))
            return
        generation = task.generation
        delay_s = DISPATCH_ATTEMPTS * self.settings.step_s
        self._timers.call_later(delay_s, lambda: self._give_up(task, generation))

    def _give_up(self, task: SimTask, generation: int) -> None:
        with self._lock:
            if task.generation != generation or task.state is not None:
                return
            self._drop_runner(task)
            if self._tasks.get(task.key) is task:
                self._tasks.pop(task.key)

    def _plan(self, task: SimTask, report: Report) -> None:
        task.generation += 1
        generation = task.generation
        self._timers.call_later(report.delay_s, lambda: self._on_due(task, generation, report))

    def _on_due(self, task: SimTask, generation: int, report: Report) -> None:
        with self._lock:
            if task.generation == generation and self._tasks.get(task.key) is task:
                self._apply(task, report)

    def _apply(self, task: SimTask, report: Report) -> None:
        now = self._clock_ms()
        task.generation += 1
        task.state = report.state
        task.history.append(report.state)
        task.recorded = True
        task.created_ms = task.created_ms or now
        task.updated_ms = now
        if report.result is not None:
            task.result = report.result
        if report.message and not task.error_message:
            task.error_message = report.message
        if report.state == "RUNNING":
            task.hostname = task.hostname or f"sim-executor-{task.node}"
            task.killed = task.killed or task.zombie
        if report.state in TERMINAL_STATES:
            self._drop_runner(task)
            self._release(task)
        following = None if task.held else next_report(task, self.settings)
        if following is not None:
            self._plan(task, following)
        if report.state == "RUNNING":
            self._plan_snapshot(task, task.generation)

    def _plan_snapshot(self, task: SimTask, generation: int) -> None:
        def refresh() -> None:
            with self._lock:
                if task.generation == generation and task.state == "RUNNING":
                    task.updated_ms = self._clock_ms()
                    self._plan_snapshot(task, generation)

        self._timers.call_later(self.settings.snapshot_s, refresh)

    def _release(self, task: SimTask) -> None:
        # The record keeps showing the allocation; the capacity goes back exactly once.
        if task.holds_capacity:
            task.holds_capacity = False
            self.cluster.release(task.allocation)

    def _drop_runner(self, task: SimTask) -> None:
        if self._runners.get(task.runner_key) is task:
            del self._runners[task.runner_key]
