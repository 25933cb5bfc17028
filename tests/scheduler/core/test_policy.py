from __future__ import annotations

from scheduler.core.policy import (
    DEFAULT_POLICY,
    PREVIOUS_RUN_RUNNING,
    Overlap,
    RunPolicy,
    Skip,
    Start,
    decide_fire,
)
from topologies.domain import TopologyState


def test_default_policy_starts_a_fire_when_nothing_runs() -> None:
    assert decide_fire(DEFAULT_POLICY, TopologyState.ACTIVE, previous_running=False) == Start()


def test_default_policy_skips_a_fire_while_the_previous_run_runs() -> None:
    decision = decide_fire(DEFAULT_POLICY, TopologyState.ACTIVE, previous_running=True)
    assert decision == Skip(PREVIOUS_RUN_RUNNING)


def test_paused_topology_skips_with_the_original_message() -> None:
    assert decide_fire(DEFAULT_POLICY, TopologyState.PAUSED, previous_running=False) == Skip(
        "Task skipped"
    )


def test_allow_and_replace_overlap_are_data_only() -> None:
    allow = RunPolicy(overlap=Overlap.ALLOW)
    replace = RunPolicy(overlap=Overlap.REPLACE)
    assert decide_fire(allow, TopologyState.ACTIVE, previous_running=True) == Start()
    assert decide_fire(replace, TopologyState.ACTIVE, previous_running=True) == Start(
        kill_previous=True
    )
