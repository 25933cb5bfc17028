from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.topologies import examples
from topologies.codec import (
    CodecError,
    details_from_json,
    details_to_json,
    normalise_topology,
    run_from_json,
    run_to_json,
    topology_from_json,
    topology_to_json,
)
from topologies.domain import (
    AtTrigger,
    CompositeTask,
    CompositionType,
    ContainerTask,
    RunState,
    TaskState,
    TopologyState,
    container_tasks,
)


def with_task(task: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(examples.FULL_CREATE)
    body["task"] = task
    return body


class TestSpecExamplesRoundTrip:
    @pytest.mark.parametrize(
        "body",
        [
            examples.FULL_CREATE,
            examples.FULL_UPDATE,
            with_task(examples.COMPOSITE_TASK),
            {**examples.FULL_CREATE, "trigger": {"type": "AT", "time": 1760000000000}},
            {k: v for k, v in examples.FULL_CREATE.items() if k != "notify"},
        ],
        ids=["full-create", "full-update", "composite", "at-trigger", "no-notify"],
    )
    def test_topology_round_trips_unchanged(self, body: dict[str, Any]) -> None:
        assert topology_to_json(topology_from_json(body)) == body

    def test_details_round_trip_unchanged(self) -> None:
        assert details_to_json(details_from_json(examples.DETAILS)) == examples.DETAILS

    @pytest.mark.parametrize("run", [examples.SUCCESSFUL_RUN, examples.SKIPPED_RUN])
    def test_run_round_trips_unchanged(self, run: dict[str, Any]) -> None:
        assert run_to_json(run_from_json(run)) == run

    @pytest.mark.parametrize("record", examples.TASK_RECORDS)
    def test_task_records_round_trip_unchanged(self, record: dict[str, Any]) -> None:
        run = {**examples.SUCCESSFUL_RUN, "tasks": {"docker-task": record}}
        assert run_to_json(run_from_json(run))["tasks"]["docker-task"] == record

    def test_output_is_compact_json_with_the_original_key_order(self) -> None:
        text = json.dumps(details_to_json(details_from_json(examples.DETAILS)))
        assert text.startswith(
            '{"id": "nightly-report", "topology": {"name": "nightly-report", "task": {"type": "CONTAINER_EXECUTION", "taskName": "docker-task", "executable"'
        )


class TestLenientReading:
    def test_enum_values_in_any_case(self) -> None:
        run = run_from_json(
            {**examples.SUCCESSFUL_RUN, "state": "successful", "runType": "instant"}
        )
        assert run.state is RunState.SUCCESSFUL
        details = details_from_json({**examples.DETAILS, "state": "paused"})
        assert details.state is TopologyState.PAUSED

    def test_unknown_keys_are_dropped(self) -> None:
        body = copy.deepcopy(examples.FULL_CREATE)
        body["surprise"] = 1
        body["task"]["executable"]["extra"] = "x"
        assert topology_to_json(topology_from_json(body)) == examples.FULL_CREATE

    def test_duration_keeps_count_and_unit_in_canonical_words(self) -> None:
        body = copy.deepcopy(examples.FULL_CREATE)
        body["task"]["executable"]["dockerPullTimeout"] = "5m"
        out = topology_to_json(topology_from_json(body))
        assert out["task"]["executable"]["dockerPullTimeout"] == "5 minutes"

    @pytest.mark.parametrize(
        ("time", "expected"),
        [
            (1760000000000, 1760000000000),
            ("2025-10-09T08:53:20Z", 1760000000000),
            ("2024-10-18T02:30:00.000+05:30", 1729198800000),
        ],
    )
    def test_at_time_as_ms_or_iso(self, time: Any, expected: int) -> None:
        body = {**examples.FULL_CREATE, "trigger": {"type": "at", "time": time}}
        body["trigger"]["type"] = "AT"
        assert topology_from_json(body).trigger == AtTrigger(expected)

    def test_missing_executable_type_defaults_to_docker(self) -> None:
        body = copy.deepcopy(examples.FULL_CREATE)
        del body["task"]["executable"]["type"]
        assert topology_to_json(topology_from_json(body)) == examples.FULL_CREATE

    def test_composition_type_defaults_to_all(self) -> None:
        task = {k: v for k, v in examples.COMPOSITE_TASK.items() if k != "compositionType"}
        topology = topology_from_json(with_task(task))
        assert isinstance(topology.task, CompositeTask)
        assert topology.task.composition is CompositionType.ALL
        assert topology_to_json(topology)["task"]["compositionType"] == "ALL"

    def test_run_with_missing_upstream_and_error_reads_as_absent(self) -> None:
        run = run_from_json(examples.SKIPPED_RUN)
        record = run.tasks["docker-task"]
        assert (record.state, record.upstream_id, record.error_message) == (
            TaskState.PENDING,
            None,
            None,
        )

    def test_nested_composite_placement(self) -> None:
        placement = {
            "type": "COMPOSITE",
            "policies": [{"type": "MATCH_TAG", "tag": "gpu"}, {"type": "max_n_per_host", "max": 2}],
        }
        body = copy.deepcopy(examples.FULL_CREATE)
        body["task"]["placementPolicy"] = placement
        with pytest.raises(
            CodecError, match=r"task.placementPolicy.policies\[1\].type: unknown type"
        ):
            topology_from_json(body)
        placement["policies"][1]["type"] = "MAX_N_PER_HOST"
        out = topology_to_json(topology_from_json(body))["task"]["placementPolicy"]
        assert out == {**placement, "combiner": "AND"}


class TestUnreadableJson:
    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda b: b["task"].pop("type"), "task.type: missing type"),
            (lambda b: b["task"].update(type="SHELL"), "task.type: unknown type 'SHELL'"),
            (lambda b: b["trigger"].update(type="cron"), "trigger.type: unknown type 'cron'"),
            (
                lambda b: b["task"]["volumes"][0].update(mode="RW"),
                r"task.volumes\[0\].mode: 'RW' is not one of",
            ),
            (
                lambda b: b["task"]["executable"].update(dockerPullTimeout=120),
                "task.executable.dockerPullTimeout",
            ),
            (
                lambda b: b["task"]["resources"][0].update(count="two"),
                r"task.resources\[0\].count: expected a whole number",
            ),
            (
                lambda b: b.update(trigger={"type": "AT", "time": "tomorrow"}),
                "trigger.time: 'tomorrow' is not an ISO-8601 date",
            ),
            (lambda b: b.update(notify={"type": "SMS"}), "notify.type: unknown type 'SMS'"),
            (lambda b: b.update(task=[1]), "task: expected an object"),
        ],
    )
    def test_error_names_the_path(self, mutate: Any, message: str) -> None:
        body = copy.deepcopy(examples.FULL_CREATE)
        mutate(body)
        with pytest.raises(CodecError, match=message):
            normalise_topology(body)


def test_container_tasks_are_listed_in_tree_order() -> None:
    nested = {
        "type": "COMPOSITE",
        "tasks": [
            examples.COMPOSITE_TASK,
            {**examples.COMPOSITE_TASK["tasks"][0], "taskName": "report"},
        ],
    }
    topology = topology_from_json(with_task(nested))
    names = [task.task_name for task in container_tasks(topology.task)]
    assert names == ["extract", "load", "report"]
    assert all(isinstance(t, ContainerTask) for t in container_tasks(topology.task))
