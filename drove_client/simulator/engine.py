"""The controller's engine checks on a valid ``TaskSpec`` and the cluster's capacity (§4.1).

Invariants:
* every spec check is collected before answering (Drove reports them together); the duplicate
  check is the store's and runs only when these pass;
* a core is held by at most one task; a task's cores all sit on one NUMA node (Drove pins them),
  and memory is accounted cluster-wide;
* a missing ``placementPolicy`` raises ``ServerError`` (current Drove's 500) unless the Drove 1.30
  switch accepts it as ``ANY``.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from drove_client.simulator.settings import SimSettings

MAX_ARGS_LENGTH = 2048
MISSING_PLACEMENT = (
    'Cannot invoke "com.phonepe.drove.models.application.placement.PlacementPolicy.accept('
    'com.phonepe.drove.models.application.placement.PlacementPolicyVisitor)" because the return '
    'value of "com.phonepe.drove.models.task.TaskSpec.getPlacementPolicy()" is null'
)


class ServerError(Exception):
    """An unhandled controller error: answered 500 "Unexpected Server error"."""


@dataclass(frozen=True)
class Allocation:
    node: int
    cores: tuple[int, ...]
    memory_mb: int

    def as_resources(self) -> list[dict[str, Any]]:
        """The allocation as Drove reports it in ``TaskInfo.resources``."""
        node = str(self.node)
        return [
            {"type": "CPU", "cores": {node: list(self.cores)}},
            {"type": "MEMORY", "memoryInMB": {node: self.memory_mb}},
        ]


def requirements(spec: Mapping[str, Any]) -> tuple[int, int]:
    """(cores, memory in MB) the spec asks for."""
    cores = sum(int(r.get("count", 0)) for r in spec.get("resources", ()) if r["type"] == "CPU")
    memory = sum(
        int(r.get("sizeInMB", 0)) for r in spec.get("resources", ()) if r["type"] == "MEMORY"
    )
    return cores, memory


class Cluster:
    """The executors' cores and memory; the layout follows the settings as they are now.

    Work is proportional to the cores in use, never to the cluster's size, so a simulated
    cluster of a million cores costs no more per CREATE than one of a dozen.
    """

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self._used_cores: set[int] = set()
        self._used_memory = 0
        self._lock = threading.Lock()

    def free_cores(self) -> int:
        with self._lock:
            return self.settings.cpus - sum(1 for c in self._used_cores if c < self.settings.cpus)

    def free_memory(self) -> int:
        with self._lock:
            return max(0, self.settings.memory_mb - self._used_memory)

    def allocate(self, cores: int, memory_mb: int) -> Allocation | None:
        """The lowest free cores of the first NUMA node that has enough, and the memory; None
        when no executor fits the task."""
        with self._lock:
            if memory_mb > self.settings.memory_mb - self._used_memory:
                return None
            node = self._first_node_with(cores)
            if node is None:
                return None
            taken = tuple(itertools.islice(self._free_cores_of(node), cores))
            self._used_cores.update(taken)
            self._used_memory += memory_mb
            return Allocation(node, taken, memory_mb)

    def release(self, allocation: Allocation | None) -> None:
        if allocation is None:
            return
        with self._lock:
            self._used_cores.difference_update(allocation.cores)
            self._used_memory = max(0, self._used_memory - allocation.memory_mb)

    def _first_node_with(self, cores: int) -> int | None:
        per_node, cpus = self.settings.cores_per_node, self.settings.cpus
        used_by_node = collections.Counter(c // per_node for c in self._used_cores if c < cpus)
        nodes = (cpus + per_node - 1) // per_node
        # Only nodes with a core in use can be short; of the others the first is the lowest.
        for node in sorted({*used_by_node, self._first_untouched(used_by_node, nodes)}):
            if node < nodes and self._node_size(node) - used_by_node[node] >= cores:
                return node
        return None

    @staticmethod
    def _first_untouched(used_by_node: collections.Counter[int], nodes: int) -> int:
        return next((n for n in range(nodes) if n not in used_by_node), nodes)

    def _node_size(self, node: int) -> int:
        per_node = self.settings.cores_per_node
        return min(per_node, self.settings.cpus - node * per_node)

    def _free_cores_of(self, node: int) -> Iterator[int]:
        start = node * self.settings.cores_per_node
        return (c for c in range(start, start + self._node_size(node)) if c not in self._used_cores)


def spec_errors(spec: Mapping[str, Any], settings: SimSettings, cluster: Cluster) -> list[str]:
    """Every engine rejection for ``spec`` (exact Drove strings), duplicate check excepted."""
    errors = [*_mount_errors(spec, settings), *_args_errors(spec, settings)]
    if spec.get("devices") and not settings.devices_enabled:
        errors.append(
            "Device access is disabled. To enable, set enableRawDeviceAccess: true in controller options."
        )
    if _uses_local_placement(_placement(spec, settings)):
        errors.append("Local service placement is not allowed for tasks")
    errors.extend(_capacity_errors(spec, settings, cluster))
    return errors


def fits_executors(spec: Mapping[str, Any], settings: SimSettings) -> bool:
    """Whether some executor could take the task (``MATCH_TAG`` needs a tagged executor)."""
    return all(tag in settings.executor_tags for tag in _tags_required(_placement(spec, settings)))


def _placement(spec: Mapping[str, Any], settings: SimSettings) -> Mapping[str, Any]:
    policy = spec.get("placementPolicy")
    if policy is None:
        if settings.placement_required:
            raise ServerError(MISSING_PLACEMENT)
        return {"type": "ANY"}
    return dict(policy)


def _mount_errors(spec: Mapping[str, Any], settings: SimSettings) -> list[str]:
    allowed = settings.mount_whitelist
    if allowed is None:
        return []
    return [
        f"Volume mount requested on non whitelisted host directory: {volume['pathOnHost']}"
        for volume in spec.get("volumes", ())
        if not any(str(volume.get("pathOnHost", "")).startswith(prefix) for prefix in allowed)
    ]


def _args_errors(spec: Mapping[str, Any], settings: SimSettings) -> list[str]:
    args = spec.get("args") or []
    if not args:
        return []
    if not settings.args_enabled:
        return ["Passing command line to containers is disabled on this cluster"]
    if len(" ".join(args)) > MAX_ARGS_LENGTH:
        return [f"Maximum combined length of command line arguments can be {MAX_ARGS_LENGTH}"]
    return []


def _capacity_errors(spec: Mapping[str, Any], settings: SimSettings, cluster: Cluster) -> list[str]:
    cores, memory = requirements(spec)
    free_cores, free_memory = cluster.free_cores(), cluster.free_memory()
    if cores > free_cores:
        return [f"Cluster does not have enough CPU. Required: {cores} Available: {free_cores}"]
    if memory > free_memory:
        return [f"Cluster does not have enough Memory. Required: {memory} Available: {free_memory}"]
    if cores > settings.cores_per_node:
        return [
            "Required cores exceeds the maximum core available on a single NUMA node in the "
            f"cluster. Required: {cores} Max: {settings.cores_per_node}"
        ]
    return []


def _uses_local_placement(policy: Mapping[str, Any]) -> bool:
    if policy.get("type") == "LOCAL":
        return True
    return any(_uses_local_placement(child) for child in policy.get("policies", ()))


def _tags_required(policy: Mapping[str, Any]) -> list[str]:
    if policy.get("type") == "MATCH_TAG":
        return [str(policy.get("tag"))]
    return [tag for child in policy.get("policies", ()) for tag in _tags_required(child)]
