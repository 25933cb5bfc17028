"""The original Epoch's JSON for topologies and runs, read leniently and written canonically."""

from topologies.codec.documents import (
    details_from_json,
    details_to_json,
    normalise_task,
    normalise_topology,
    run_from_json,
    run_to_json,
    task_from_json,
    task_to_json,
    topology_from_json,
    topology_to_json,
)
from topologies.codec.fields import CodecError

__all__ = [
    "CodecError",
    "details_from_json",
    "details_to_json",
    "normalise_task",
    "normalise_topology",
    "run_from_json",
    "run_to_json",
    "task_from_json",
    "task_to_json",
    "topology_from_json",
    "topology_to_json",
]
