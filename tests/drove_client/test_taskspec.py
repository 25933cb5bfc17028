"""Building Drove's TaskSpec and operation bodies from an Epoch container task (drove-api.md §6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drove_client.taskspec import build_task_spec, create_operation, kill_operation
from tests.topologies import examples

TASK_ID = "nightly-report-ESR-2024-10-18-02-30-00-000-docker-task"
OP_SPEC = {"timeout": "300 seconds", "parallelism": 1, "failureStrategy": "STOP"}


def full_task() -> dict[str, Any]:
    """The container task of the model's full create example (epoch-model.md §10)."""
    return copy.deepcopy(examples.FULL_CREATE["task"])


def test_spec_matches_the_contracts_example_in_content_and_order() -> None:
    spec = build_task_spec(full_task(), TASK_ID, "epoch-1")
    assert spec == {
        "sourceAppName": "epoch-1",
        "taskId": TASK_ID,
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/acme/report-job:1.4.2",
            "dockerPullTimeout": "120 seconds",
        },
        "volumes": [{"pathInContainer": "/data", "pathOnHost": "/mnt/data", "mode": "READ_ONLY"}],
        "configs": [],
        "logging": {"type": "LOCAL", "maxSize": "10m", "maxFiles": 3, "compress": True},
        "resources": [{"type": "CPU", "count": 2}, {"type": "MEMORY", "sizeInMB": 2048}],
        "placementPolicy": {"type": "ANY"},
        "tags": {"team": "reports"},
        "env": {"REPORT_DATE": "yesterday"},
        "args": ["--verbose"],
        "devices": [],
    }
    assert list(spec) == [
        "sourceAppName",
        "taskId",
        "executable",
        "volumes",
        "configs",
        "logging",
        "resources",
        "placementPolicy",
        "tags",
        "env",
        "args",
        "devices",
    ]


def test_null_fields_are_omitted_and_placement_defaults_to_any() -> None:
    task = {
        "taskName": "t",
        "executable": {"url": "alpine", "dockerPullTimeout": "1m", "credentials": None},
        "resources": [{"type": "CPU", "count": 1}],
        "volumes": None,
        "logging": None,
        "placementPolicy": None,
        "tags": None,
        "env": {"A": "1", "B": None},
        "args": None,
    }
    spec = build_task_spec(task, "id", "app")
    assert spec == {
        "sourceAppName": "app",
        "taskId": "id",
        "executable": {"type": "DOCKER", "url": "alpine", "dockerPullTimeout": "1m"},
        "resources": [{"type": "CPU", "count": 1}],
        "placementPolicy": {"type": "ANY"},
        "env": {"A": "1"},
        "devices": [],
    }


def test_given_placement_and_empty_collections_are_kept() -> None:
    task = dict(full_task(), placementPolicy={"type": "MATCH_TAG", "tag": "gpu"}, tags={}, args=[])
    spec = build_task_spec(task, "id", "app")
    assert spec["placementPolicy"] == {"type": "MATCH_TAG", "tag": "gpu"}
    assert spec["tags"] == {}
    assert spec["args"] == []


def test_epoch_only_fields_are_not_sent_and_input_is_untouched() -> None:
    task = full_task()
    task["somethingElse"] = 1
    before = copy.deepcopy(task)
    spec = build_task_spec(task, "id", "app")
    assert "taskName" not in spec and "type" not in spec and "somethingElse" not in spec
    assert task == before


def test_a_definition_without_executable_or_resources_is_refused() -> None:
    with pytest.raises(ValueError, match="no executable or no resources"):
        build_task_spec({"taskName": "t", "resources": [{"type": "CPU", "count": 1}]}, "i", "a")
    with pytest.raises(ValueError, match="no executable or no resources"):
        build_task_spec({"executable": {"url": "x"}, "resources": []}, "i", "a")


def test_create_body_carries_the_configured_op_spec() -> None:
    spec = build_task_spec(full_task(), TASK_ID, "epoch-1")
    body = create_operation(
        spec, {"timeout": "10m", "parallelism": 4, "failureStrategy": "ROLLBACK"}
    )
    assert list(body) == ["type", "spec", "opSpec"]
    assert body["type"] == "CREATE"
    assert body["spec"] == spec
    assert body["opSpec"] == {"timeout": "10m", "parallelism": 4, "failureStrategy": "ROLLBACK"}


def test_kill_body_always_uses_the_default_op_spec() -> None:
    assert kill_operation("epoch-1", TASK_ID) == {
        "type": "KILL",
        "sourceAppName": "epoch-1",
        "taskId": TASK_ID,
        "opSpec": OP_SPEC,
    }
