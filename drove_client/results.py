"""What the client's calls return: plain frozen values a scheduler can store or act on.

Every outcome carries the Epoch state and the exact ``errorMessage`` text to record
(epoch-model.md §15.3/§15.4), plus ``detail``: the endpoint and what Drove said, for logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drove_client.states import TaskState, epoch_error_message, epoch_state


@dataclass(frozen=True)
class TaskInfo:
    """One task as Drove reported it (``TaskInfo``, drove-api.md §7.1), mapped to Epoch terms."""

    app_name: str
    task_id: str
    drove_state: str
    state: TaskState  # Epoch's state for drove_state/result_status (epoch-model.md §12.4)
    error_message: str  # Drove's errorMessage, or Epoch's text for a result-less STOPPED
    result_status: str | None = None
    exit_code: int | None = None
    hostname: str | None = None
    instance_id: str | None = None
    created_ms: int | None = None
    updated_ms: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_drove(cls, data: Mapping[str, Any]) -> TaskInfo:
        """Map Drove's JSON; raises ``ValueError`` when ``taskId`` or ``state`` is missing."""
        task_id, drove_state = data.get("taskId"), data.get("state")
        if not isinstance(task_id, str) or not isinstance(drove_state, str):
            raise ValueError("task record without taskId or state")
        result = data.get("taskResult")
        status, exit_code = _result(result if isinstance(result, Mapping) else None)
        message = str(data.get("errorMessage") or "")
        return cls(
            app_name=str(data.get("sourceAppName") or ""),
            task_id=task_id,
            drove_state=drove_state.upper(),
            state=epoch_state(drove_state, status),
            error_message=epoch_error_message(drove_state, status, message),
            result_status=status,
            exit_code=exit_code,
            hostname=_text(data.get("hostname")),
            instance_id=_text(data.get("instanceId")),
            created_ms=_number(data.get("created")),
            updated_ms=_number(data.get("updated")),
            raw=data,
        )


def _result(result: Mapping[str, Any] | None) -> tuple[str | None, int | None]:
    if result is None or not isinstance(result.get("status"), str):
        return None, None
    return result["status"].upper(), _number(result.get("exitCode"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class StartOutcome:
    """Result of ``start_task``: the task record to write after the CREATE (and attach).

    ``indeterminate`` is True when Drove never acknowledged the CREATE (no answer after every
    retry): the task is recorded ``UNKNOWN`` and polled; if Drove then does not know it, sending
    the CREATE again is safe, a duplicate is rejected and re-attached.
    """

    task_id: str
    state: TaskState
    upstream_id: str
    error_message: str
    indeterminate: bool = False
    attached: bool = False  # Drove already had the task ("Task already exists"): it was read
    info: TaskInfo | None = None
    detail: str = ""
    attempts: int = 1  # CREATE requests sent


@dataclass(frozen=True)
class StatusOutcome:
    """Result of one ``task_status`` read.

    ``info`` is set when Drove answered with the task; ``not_found`` when it answered "No such
    task instance" (not yet recorded, never scheduled, or deleted). Otherwise there was no usable
    answer; ``state`` is then ``UNKNOWN`` with the §15.3 poll message.
    """

    task_id: str
    state: TaskState
    error_message: str
    info: TaskInfo | None = None
    not_found: bool = False
    detail: str = ""

    @property
    def answered(self) -> bool:
        return self.info is not None


@dataclass(frozen=True)
class CancelResponse:
    """Result of a KILL, with the original Epoch's texts (drove-api.md §9.4)."""

    success: bool
    message: str
    detail: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"success": self.success, "message": self.message}
