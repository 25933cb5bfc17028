"""Drove's answers as bytes: the JSON envelope and the generic failures of drove-api.md §3.

Invariants: envelope keys come in Drove's order ``status``, ``data``, ``message``; ``data`` is left
out when null; a success always says ``"message": "success"``; JSON is compact, like Jackson's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NOT_LEADER = "This node is not the leader controller"
COMMAND_VALIDATION_FAILURE = "Command validation failure"
JSON_VALIDATION_FAILURE = "JSON validation failure"
UNEXPECTED_SERVER_ERROR = "Unexpected Server error"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def envelope(status: str, data: Any, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if data is not None:
        body["data"] = data
    body["message"] = message
    return body


def success(data: Any = None) -> Answer:
    return Answer(200, dumps(envelope("SUCCESS", data, "success")))


def failed(http_status: int, message: str, data: Any = None) -> Answer:
    return Answer(http_status, dumps(envelope("FAILED", data, message)))


def command_validation_failure(errors: list[str], http_status: int = 400) -> Answer:
    """Bean or engine rejection; some Drove builds answer 422 ``{"errors": [...]}`` instead."""
    if http_status == 422:
        return Answer(422, dumps({"errors": errors}))
    return failed(400, COMMAND_VALIDATION_FAILURE, {"validationErrors": errors})


def json_validation_failure(message: str) -> Answer:
    return failed(400, JSON_VALIDATION_FAILURE, {"validationErrors": [message]})


def server_error(message: str) -> Answer:
    return failed(500, UNEXPECTED_SERVER_ERROR, {"failure": message})


def not_leader() -> Answer:
    return failed(400, NOT_LEADER)


def empty(http_status: int) -> Answer:
    return Answer(http_status, b"", None)


def gateway_error(http_status: int) -> Answer:
    """What a load balancer in front of Drove answers when the controller is unavailable."""
    title = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    text = f"{http_status} {title.get(http_status, 'Error')}"
    page = f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>"
    return Answer(http_status, page.encode(), "text/html")


def injected_status(http_status: int, message: str, body: Any = None) -> Answer:
    """An injected fault's answer: ``body`` as given, else Drove's 500, a load balancer's
    502/503/504, or a FAILED envelope carrying ``message``."""
    if body is not None:
        return Answer(http_status, dumps(body))
    if http_status == 500:
        return server_error(message)
    if http_status in (502, 503, 504):
        return gateway_error(http_status)
    return failed(http_status, message)


def control_json(value: Any, http_status: int = 200) -> Answer:
    return Answer(http_status, dumps(value))
