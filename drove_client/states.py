"""Epoch's task states and how Drove's task states map onto them (epoch-model.md §12.3, §12.4).

Invariants:
* the mapping is total: every Drove state, including values a future Drove may add, maps to exactly
  one Epoch state; anything not recognised is ``UNKNOWN`` (non-terminal, so the task is polled on);
* a task that Drove reports ``STOPPED`` counts as ``COMPLETED`` only with a ``SUCCESSFUL`` result;
  ``STOPPED`` without a result (an image-pull failure) is ``FAILED``;
* Drove's enum values are read case-insensitively, as Drove's own JSON reader does.
"""

from __future__ import annotations

from topologies.domain import TaskState

__all__ = ["STOPPED_WITHOUT_RESULT", "TaskState", "epoch_error_message", "epoch_state"]

STOPPED_WITHOUT_RESULT = "Task stopped on drove without a result"

_BY_DROVE_STATE: dict[str, TaskState] = {
    "PENDING": TaskState.STARTING,
    "PROVISIONING": TaskState.STARTING,
    "STARTING": TaskState.STARTING,
    "RUNNING": TaskState.RUNNING,
    "RUN_COMPLETED": TaskState.RUNNING,
    "DEPROVISIONING": TaskState.RUNNING,
    "PROVISIONING_FAILED": TaskState.FAILED,
    "RUN_FAILED": TaskState.FAILED,
    "LOST": TaskState.FAILED,
    "UNKNOWN": TaskState.UNKNOWN,
}

_BY_STOPPED_RESULT: dict[str, TaskState] = {
    "SUCCESSFUL": TaskState.COMPLETED,
    "CANCELLED": TaskState.CANCELLED,
}


def epoch_state(drove_state: str, result_status: str | None) -> TaskState:
    """Epoch's state for a Drove ``state`` and ``taskResult.status`` (None: no result yet)."""
    state = drove_state.upper()
    if state != "STOPPED":
        return _BY_DROVE_STATE.get(state, TaskState.UNKNOWN)
    if result_status is None:
        return TaskState.FAILED
    # FAILED, TIMED_OUT, LOST and any value a later Drove may add all mean the run did not succeed.
    return _BY_STOPPED_RESULT.get(result_status.upper(), TaskState.FAILED)


def epoch_error_message(drove_state: str, result_status: str | None, drove_message: str) -> str:
    """The ``errorMessage`` Epoch stores: Drove's, or ours for a result-less ``STOPPED``."""
    if drove_state.upper() == "STOPPED" and result_status is None and not drove_message:
        return STOPPED_WITHOUT_RESULT
    return drove_message
