"""Per-topology run policies as data, and the decision each fire takes from them.

Today every topology has the default policy, which is the original Epoch's behaviour: scheduled
runs of one topology never overlap (a fire that finds the previous run still running is recorded
as SKIPPED), no run timeout, no retries, the scheduler's time zone. New policies change these
values, not the decision code's shape.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from topologies.domain import TopologyState

PREVIOUS_RUN_RUNNING = "Task skipped: previous run still running"
TOPOLOGY_PAUSED = "Task skipped"


class Overlap(enum.StrEnum):
    FORBID = "FORBID"  # skip the fire while the previous scheduled run is running
    ALLOW = "ALLOW"  # start it anyway
    REPLACE = "REPLACE"  # kill the previous run, then start


@dataclass(frozen=True)
class RunPolicy:
    overlap: Overlap = Overlap.FORBID
    timeout_ms: int | None = None
    max_retries: int = 0
    time_zone: str | None = None  # None: the scheduler's zone


DEFAULT_POLICY = RunPolicy()


@dataclass(frozen=True)
class Start:
    kill_previous: bool = False


@dataclass(frozen=True)
class Skip:
    message: str


FireDecision = Start | Skip


def decide_fire(policy: RunPolicy, state: TopologyState, previous_running: bool) -> FireDecision:
    """What a scheduled fire does, given the topology's state and whether its last run is live."""
    if state is not TopologyState.ACTIVE:
        return Skip(TOPOLOGY_PAUSED)
    if not previous_running or policy.overlap is Overlap.ALLOW:
        return Start()
    if policy.overlap is Overlap.REPLACE:
        return Start(kill_previous=True)
    return Skip(PREVIOUS_RUN_RUNNING)
