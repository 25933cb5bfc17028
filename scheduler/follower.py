"""Follows one run on Drove: starts its tasks in tree order, records what Drove reports, ends it.

Runs in the scheduler's worker pool, one job per run at a time. Writes happen only when a task's
state or error changes (a task accepted by Drove is not written as STARTING on its own: its next
state carries that write), so a single-task run costs three writes: created, running, finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from scheduler.core.clock import Clock
from scheduler.core.runs import (
    FollowTask,
    StartTask,
    TreeDone,
    final_message,
    final_state,
    internal_error_message,
    next_step,
)
from scheduler.core.tasks import (
    Limits,
    Observation,
    TaskWatch,
    create_never_acknowledged,
    next_record,
)
from scheduler.events import EpochEvent, EventBus, EventType, Tag, run_event
from scheduler.gateway import TaskGateway
from topologies.domain import (
    ContainerTask,
    RunInfo,
    RunState,
    TaskRecord,
    TaskState,
    TopologyDetails,
    container_tasks,
)
from topologies.storage.base import NotFound, NotLeader, Store, StoreError

log = logging.getLogger(__name__)


@dataclass
class FollowedRun:
    run: RunInfo
    details: TopologyDetails  # the definition this run follows, as it was when it started
    watches: dict[str, TaskWatch] = field(default_factory=dict)
    dirty: bool = False  # the in-memory record holds changes not yet written
    gone: bool = False  # the run record disappeared (topology deleted) or leadership was lost

    @property
    def key(self) -> tuple[str, str]:
        return (self.run.topology_id, self.run.run_id)

    def container(self, name: str) -> ContainerTask:
        return next(t for t in container_tasks(self.details.topology.task) if t.task_name == name)

    def following(self) -> list[str]:
        """Names of started tasks that have not ended."""
        return [n for n, r in self.run.tasks.items() if r.state in _FOLLOWED_STATES]


_FOLLOWED_STATES = (TaskState.STARTING, TaskState.RUNNING, TaskState.UNKNOWN)


class RunFollower:
    def __init__(
        self, store: Store, gateway: TaskGateway, clock: Clock, bus: EventBus, limits: Limits
    ):
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.bus = bus
        self.limits = limits

    def advance(
        self, followed: FollowedRun, name: str | None = None, seen: Observation | None = None
    ) -> bool:
        """Apply ``seen`` for task ``name`` (if given), then go as far as possible; True when done."""
        try:
            if name is not None and seen is not None:
                self._apply(followed, name, seen)
            return self._walk(followed)
        except NotFound:
            followed.gone = True  # the topology was deleted: stop without writing
        except NotLeader:
            followed.gone = True
        except StoreError as error:
            log.warning("Run %s/%s not recorded yet: %s", *followed.key, error)
            followed.dirty = True
        except Exception as error:
            log.exception("Run %s/%s failed inside Epoch", *followed.key)
            self._end(
                followed,
                RunState.FAILED,
                internal_error_message(str(error) or type(error).__name__),
            )
            return True
        return followed.gone

    def _apply(self, followed: FollowedRun, name: str, seen: Observation) -> None:
        if create_never_acknowledged(followed.run.tasks[name], seen):
            log.info("Drove never received task %s: sending its CREATE again", name)
            self._start(followed, StartTask(name))
        else:
            self._observe(followed, name, seen, started=False)

    def _walk(self, followed: FollowedRun) -> bool:
        if followed.dirty:
            self._write(followed)
        while True:
            step = next_step(followed.details.topology.task, followed.run.tasks)
            if isinstance(step, FollowTask):
                return False
            if isinstance(step, TreeDone):
                run = followed.run
                state = final_state(
                    step.state, run.run_type, followed.details.topology.trigger.type
                )
                self._end(followed, state, final_message(state))
                return True
            self._start(followed, step)

    def _start(self, followed: FollowedRun, step: StartTask) -> None:
        record = followed.run.tasks[step.task_name]
        seen = self.gateway.start(record.task_id, followed.container(step.task_name))
        self._observe(followed, step.task_name, seen, started=True)

    def _observe(self, followed: FollowedRun, name: str, seen: Observation, started: bool) -> None:
        before = followed.run.tasks[name]
        watch = followed.watches.setdefault(name, TaskWatch())
        after = next_record(before, seen, watch, self.clock.now_ms(), self.limits)
        if after == before:
            return
        followed.run = followed.run.with_task(name, after, self.clock.now_ms())
        if started or (after.state.is_terminal and not before.state.is_terminal):
            self._publish_task(followed.run, name, after)
        if not (before.state is TaskState.PENDING and after.state is TaskState.STARTING):
            self._write(followed)
        else:
            followed.dirty = True  # carried by the task's next write

    def _end(self, followed: FollowedRun, state: RunState, message: str) -> None:
        followed.run = followed.run.finished(state, message, self.clock.now_ms())
        self._write(followed)
        self.bus.publish(run_event(followed.run))

    def _write(self, followed: FollowedRun) -> None:
        mine = followed.run

        def apply(current: RunInfo) -> RunInfo | None:
            if current.state.is_terminal:
                return None  # terminal run states never change again
            return replace(
                current,
                tasks=dict(mine.tasks),
                state=mine.state,
                message=mine.message,
                updated=mine.updated,
            )

        followed.dirty = True
        self.store.update_run(mine.topology_id, mine.run_id, apply)
        followed.dirty = False

    def _publish_task(self, run: RunInfo, name: str, record: TaskRecord) -> None:
        metadata = {
            Tag.TOPOLOGY_ID: run.topology_id,
            Tag.TOPOLOGY_RUN_ID: run.run_id,
            Tag.TOPOLOGY_RUN_TASK_ID: name,
            Tag.TOPOLOGY_RUN_TYPE: run.run_type.value,
            Tag.NEW_STATE: record.state.value,
            Tag.ERROR_MESSAGE: record.error_message or "",
        }
        self.bus.publish(
            EpochEvent(EventType.TOPOLOGY_RUN_TASK_STATE_CHANGED, self.clock.now_ms(), metadata)
        )
