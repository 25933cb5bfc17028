"""The client's typed failures and the message texts Epoch stores on task records.

The texts are normative (epoch-model.md §15.3/§15.4, drove-api.md §9.4): the UI, notifications and
existing run records carry them verbatim, so they are defined once here and never rephrased.

A ``DroveError`` always says which call failed, on which endpoint, and what Drove answered (or that
it did not answer); no ``requests`` exception ever leaves the client.
"""

from __future__ import annotations

OPERATIONS_PATH = "/apis/v1/tasks/operations"

# Start (CREATE and attach), epoch-model.md §15.3.
UNKNOWN_TASK_STATE = "Unknown task state"
NO_RESPONSE = "No response from drove"
HTTP_CALL_ERROR = "Error making http call to " + OPERATIONS_PATH + ": {message}"
RECEIVED_ERROR = "Received error from api: [{status}] {body}"
ATTACH_UNASCERTAINED = (
    "Could not ascertain if task has started or not. Please check drove logs for status"
)
ATTACH_ERROR = "Error fetching task data: {message}"

# Poll, epoch-model.md §15.3.
STATUS_UNASCERTAINED = "Status could not be ascertained. Task might not have started yet"
STATUS_ERROR = "Error getting task status: {message}"

# Kill, drove-api.md §9.4.
CANCEL_ACCEPTED = "Task cancel accepted"
CANCEL_FAILED_ERROR = "Task cancellation failed with error: {message}"
CANCEL_FAILED_STATUS = "Task cancellation failed with status: [{status}] {body}"
CANCEL_NOT_SENT = "Could not send kill command to drove"

# What Drove itself says, matched as substrings (drove-api.md §3, §4.1, §5.1).
NOT_LEADER = "This node is not the leader controller"
ALREADY_EXISTS = "Task already exists"
NO_SUCH_TASK = "No such task instance"

# The upstream id Epoch stores when Drove never accepted the task.
UNKNOWN_UPSTREAM_ID = "UNKNOWN"


class DroveError(Exception):
    """A Drove call gave no usable answer; ``str()`` names the call, the endpoint and the answer."""

    def __init__(self, call: str, detail: str) -> None:
        super().__init__(f"{call}: {detail}")
        self.call = call  # e.g. "GET http://drove:7000/apis/v1/tasks"
        self.detail = detail


class DroveUnreachable(DroveError):
    """No answer at all. ``kind`` says why:

    * ``no-leader``: no controller claims leadership, nothing was sent;
    * ``refused``: the connection could not be opened, nothing reached Drove;
    * ``timeout``: the request may have reached Drove, the answer did not come back in time;
    * ``broken``: the connection broke during the exchange.
    """

    def __init__(self, call: str, detail: str, *, kind: str) -> None:
        super().__init__(call, detail)
        self.kind = kind

    @property
    def delivered(self) -> bool:
        """False only when Drove certainly never saw the request: re-sending it is then safe."""
        return self.kind not in ("no-leader", "refused")


class DroveAnswerError(DroveError):
    """Drove answered, but not with ``200`` and ``status: SUCCESS`` (or the body was unreadable)."""

    def __init__(self, call: str, status: int, body: str) -> None:
        super().__init__(call, f"[{status}] {body}")
        self.status = status
        self.body = body
