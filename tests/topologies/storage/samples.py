from __future__ import annotations

import copy
from dataclasses import replace

from tests.topologies import examples
from topologies.codec import details_from_json, run_from_json
from topologies.domain import RunInfo, RunState, TaskRecord, TaskState, TopologyDetails


def topology(name: str = "nightly-report", created: int = 1729100000000) -> TopologyDetails:
    document = copy.deepcopy(examples.DETAILS)
    document["id"] = name
    document["topology"]["name"] = name
    document["created"] = document["updated"] = created
    return details_from_json(document)


def run(
    topology_id: str = "nightly-report",
    run_id: str = "ESR-2024-10-18-02-30-00-000",
    updated: int = 1729198923456,
) -> RunInfo:
    base = run_from_json(examples.SUCCESSFUL_RUN)
    task_id = f"{topology_id}-{run_id}-docker-task"
    record = TaskRecord(task_id, TaskState.PENDING)
    return replace(
        base,
        topology_id=topology_id,
        run_id=run_id,
        state=RunState.RUNNING,
        message="Job started",
        tasks={"docker-task": record},
        updated=updated,
    )
