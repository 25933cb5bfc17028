"""The simulator's core and memory accounting: the lowest free cores of the first NUMA node that
fits, checked against a plain walk over every core."""

from __future__ import annotations

import random

import pytest

from drove_client.simulator.engine import Allocation, Cluster
from drove_client.simulator.settings import SimSettings


def reference_allocation(settings: SimSettings, used: set[int], cores: int) -> tuple[int, ...]:
    """The slow, obvious answer: walk every node and every core."""
    per_node = settings.cores_per_node
    for node in range((settings.cpus + per_node - 1) // per_node):
        span = range(node * per_node, min((node + 1) * per_node, settings.cpus))
        free = [core for core in span if core not in used]
        if len(free) >= cores:
            return tuple(free[:cores])
    return ()


@pytest.mark.parametrize("seed", range(20))
def test_allocations_match_a_walk_over_every_core(seed: int) -> None:
    rng = random.Random(seed)
    settings = SimSettings(cpus=rng.randint(1, 40), memory_mb=1_000_000)
    settings.numa_cores = rng.choice([None, 1, 3, 4, 8])
    cluster = Cluster(settings)
    held: list[Allocation] = []
    for _ in range(200):
        if held and rng.random() < 0.4:
            cluster.release(held.pop(rng.randrange(len(held))))
            continue
        cores = rng.randint(1, 6)
        used = {core for allocation in held for core in allocation.cores}
        expected = reference_allocation(settings, used, cores)
        allocation = cluster.allocate(cores, 128)
        assert (allocation.cores if allocation else ()) == expected
        if allocation:
            held.append(allocation)
        assert cluster.free_cores() == settings.cpus - len(used) - len(expected)


def test_a_task_never_spans_numa_nodes() -> None:
    cluster = Cluster(SimSettings(cpus=8, memory_mb=4096, numa_cores=4))
    first = cluster.allocate(3, 128)
    second = cluster.allocate(3, 128)
    assert first == Allocation(0, (0, 1, 2), 128)
    assert second == Allocation(1, (4, 5, 6), 128)
    assert cluster.allocate(2, 128) is None  # one core left on each node
    assert cluster.allocate(1, 128) == Allocation(0, (3,), 128)


def test_memory_is_accounted_cluster_wide() -> None:
    cluster = Cluster(SimSettings(cpus=4, memory_mb=1000))
    held = cluster.allocate(1, 800)
    assert cluster.allocate(1, 300) is None
    cluster.release(held)
    assert cluster.free_memory() == 1000
    assert cluster.allocate(1, 300) is not None


def test_a_smaller_cluster_ignores_cores_held_beyond_it() -> None:
    settings = SimSettings(cpus=8, memory_mb=4096)
    cluster = Cluster(settings)
    cluster.allocate(6, 128)
    settings.cpus = 4  # shrunk through the control interface while tasks hold cores 0-5
    assert cluster.free_cores() == 0
    assert cluster.allocate(1, 128) is None


def test_a_huge_cluster_hands_out_its_lowest_cores() -> None:
    cluster = Cluster(SimSettings(cpus=1_000_000, memory_mb=10**9))
    allocations = [cluster.allocate(2, 1) for _ in range(1000)]
    assert [a.cores for a in allocations if a][-1] == (1998, 1999)
    assert cluster.free_cores() == 1_000_000 - 2000
