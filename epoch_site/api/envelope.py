"""The original's response envelope: ``{"status", "data", "message"}`` with ``data`` omitted when null."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response


def envelope(status: str, data: Any = None, message: str = "success") -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if data is not None:
        body["data"] = data
    body["message"] = message
    return body


def success(data: Any = None) -> Response:
    return Response(envelope("SUCCESS", data))


def failed(message: str, data: Any = None, http_status: int = 200) -> Response:
    return Response(envelope("FAILED", data, message), status=http_status)


def validation_failed(errors: list[str], message: str = "Command validation failure") -> Response:
    return failed(message, {"validationErrors": errors}, http_status=400)
