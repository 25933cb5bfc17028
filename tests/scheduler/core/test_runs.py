from __future__ import annotations

import copy

import pytest

from scheduler.core.runs import (
    COMPOSITE_ANY_FAILED,
    FollowTask,
    StartTask,
    TreeDone,
    final_message,
    final_state,
    new_run,
    next_step,
    skip_before_start,
)
from tests.topologies import examples
from topologies.codec import details_from_json
from topologies.domain import (
    RunState,
    RunType,
    TaskRecord,
    TaskState,
    TopologyDetails,
    TopologyState,
    TriggerType,
)


def composite(kind: str, count: int) -> TopologyDetails:
    template = examples.COMPOSITE_TASK["tasks"][0]
    tasks = [{**template, "taskName": f"test-task-{i}"} for i in range(1, count + 1)]
    document = copy.deepcopy(examples.DETAILS)
    document["topology"]["task"] = {"type": "COMPOSITE", "compositionType": kind, "tasks": tasks}
    return details_from_json(document)


def records(**states: TaskState) -> dict[str, TaskRecord]:
    return {name.replace("_", "-"): TaskRecord(name, state) for name, state in states.items()}


class TestNewRun:
    def test_every_container_task_starts_pending_in_tree_order(self) -> None:
        run = new_run(composite("ALL", 3), "ESR-1", RunType.SCHEDULED, 42)
        assert list(run.tasks) == ["test-task-1", "test-task-2", "test-task-3"]
        assert run.tasks["test-task-2"] == TaskRecord(
            "nightly-report-ESR-1-test-task-2", TaskState.PENDING
        )
        assert (run.state, run.message, run.created, run.updated) == (
            RunState.RUNNING,
            "Job started",
            42,
            42,
        )


class TestSingleTask:
    details = details_from_json(examples.DETAILS)

    @pytest.mark.parametrize(
        ("state", "step"),
        [
            (TaskState.PENDING, StartTask("docker-task")),
            (TaskState.STARTING, FollowTask("docker-task")),
            (TaskState.RUNNING, FollowTask("docker-task")),
            (TaskState.UNKNOWN, FollowTask("docker-task")),
            (TaskState.COMPLETED, TreeDone(TaskState.COMPLETED)),
            (TaskState.FAILED, TreeDone(TaskState.FAILED)),
            (TaskState.CANCELLED, TreeDone(TaskState.CANCELLED)),
        ],
    )
    def test_step_follows_the_recorded_state(self, state: TaskState, step: object) -> None:
        assert next_step(self.details.topology.task, records(docker_task=state)) == step


class TestCompositeAll:
    def test_children_run_one_after_another(self) -> None:
        tree = composite("ALL", 3).topology.task
        done = TaskState.COMPLETED
        assert next_step(tree, {}) == StartTask("test-task-1")
        assert next_step(tree, records(test_task_1=TaskState.RUNNING)) == FollowTask("test-task-1")
        assert next_step(tree, records(test_task_1=done)) == StartTask("test-task-2")
        assert next_step(
            tree, records(test_task_1=done, test_task_2=done, test_task_3=done)
        ) == TreeDone(done)

    @pytest.mark.parametrize("failure", [TaskState.FAILED, TaskState.CANCELLED])
    def test_stops_at_the_first_failure(self, failure: TaskState) -> None:
        tree = composite("ALL", 10).topology.task
        step = next_step(tree, records(test_task_1=TaskState.COMPLETED, test_task_2=failure))
        assert step == TreeDone(failure)


class TestCompositeAny:
    def test_stops_at_the_first_success(self) -> None:
        tree = composite("ANY", 10).topology.task
        failed = {f"test_task_{i}": TaskState.FAILED for i in range(1, 4)}
        assert next_step(tree, records(**failed)) == StartTask("test-task-4")
        assert next_step(tree, records(**failed, test_task_4=TaskState.COMPLETED)) == TreeDone(
            TaskState.COMPLETED
        )

    def test_fails_when_no_child_succeeds(self) -> None:
        tree = composite("ANY", 3).topology.task
        all_failed = records(
            test_task_1=TaskState.FAILED,
            test_task_2=TaskState.CANCELLED,
            test_task_3=TaskState.FAILED,
        )
        assert next_step(tree, all_failed) == TreeDone(TaskState.FAILED, COMPOSITE_ANY_FAILED)


class TestOutcome:
    @pytest.mark.parametrize(
        ("root", "run_type", "trigger", "expected"),
        [
            (TaskState.COMPLETED, RunType.SCHEDULED, TriggerType.CRON, RunState.SUCCESSFUL),
            (TaskState.COMPLETED, RunType.SCHEDULED, TriggerType.AT, RunState.COMPLETED),
            (TaskState.COMPLETED, RunType.INSTANT, TriggerType.CRON, RunState.COMPLETED),
            (TaskState.FAILED, RunType.SCHEDULED, TriggerType.CRON, RunState.FAILED),
            (TaskState.CANCELLED, RunType.INSTANT, TriggerType.AT, RunState.FAILED),
        ],
    )
    def test_final_state(
        self, root: TaskState, run_type: RunType, trigger: TriggerType, expected: RunState
    ) -> None:
        assert final_state(root, run_type, trigger) is expected

    @pytest.mark.parametrize(
        ("state", "message"),
        [
            (RunState.SUCCESSFUL, "Task successful"),
            (RunState.COMPLETED, "Task completed"),
            (RunState.FAILED, "Task failed"),
            (RunState.SKIPPED, "Task skipped"),
        ],
    )
    def test_final_messages_are_the_originals(self, state: RunState, message: str) -> None:
        assert final_message(state) == message

    def test_paused_topology_skips_scheduled_but_not_instant_runs(self) -> None:
        assert skip_before_start(TopologyState.PAUSED, RunType.SCHEDULED) is RunState.SKIPPED
        assert skip_before_start(TopologyState.PAUSED, RunType.INSTANT) is None
        assert skip_before_start(TopologyState.ACTIVE, RunType.SCHEDULED) is None
        assert skip_before_start(TopologyState.DELETED, RunType.INSTANT) is RunState.COMPLETED
