"""Maps every API failure to the original's envelope and HTTP status (epoch-api.md §1.2)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from epoch_site.api.envelope import envelope

log = logging.getLogger(__name__)

UNAUTHENTICATED_TEXT = "Credentials are required to access this resource."
CHALLENGE = 'Basic realm="realm"'


class EpochError(exceptions.APIException):
    """An Epoch error code (epoch-api.md §1.4): answered as ``[<code>]: <text>``."""

    def __init__(self, code: int, text: str, http_status: int, details: list[str] | None = None):
        super().__init__(text)
        self.epoch_code = code
        self.text = text
        self.status_code = http_status
        self.details = details


class SoftFailure(exceptions.APIException):
    """A failure the original answers with HTTP 200 and ``"status":"FAILED"``."""

    status_code = 200


def unauthenticated_response() -> HttpResponse:
    response = HttpResponse(UNAUTHENTICATED_TEXT, status=401, content_type="text/plain")
    response["WWW-Authenticate"] = CHALLENGE
    return response


def failed_response(code: int, text: str, http_status: int, details: Any = None) -> Response:
    data = {"validationErrors": details} if details else None
    return Response(envelope("FAILED", data, f"[{code}]: {text}"), status=http_status)


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return unauthenticated_response()
    if isinstance(exc, EpochError):
        return failed_response(exc.epoch_code, exc.text, exc.status_code, exc.details)
    if isinstance(exc, exceptions.PermissionDenied):
        return failed_response(2001, "Forbidden Error", status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.NotFound):
        return failed_response(2002, "Not Found", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return failed_response(2003, "Operation is not allowed", status.HTTP_405_METHOD_NOT_ALLOWED)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return failed_response(3000, "Invalid Input", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    if isinstance(exc, exceptions.ParseError):
        body = envelope(
            "FAILED", {"validationErrors": [str(exc.detail)]}, "JSON validation failure"
        )
        return Response(body, status=400)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return Response(
            envelope("FAILED", {"validationErrors": errors}, "Command validation failure"), 400
        )
    if isinstance(exc, exceptions.APIException):
        return Response(envelope("FAILED", None, str(exc.detail)), status=exc.status_code)
    log.error("Unexpected error answering %s", context.get("request"), exc_info=exc)
    return Response(
        envelope("FAILED", {"failure": str(exc) or type(exc).__name__}, "Unexpected Server error"),
        status=500,
    )


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [msg for key, value in detail.items() for msg in _flatten(value, _join(prefix, key))]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item, prefix)]
    return [f"{prefix} {detail}".strip()]


def _join(prefix: str, key: Any) -> str:
    if key == "non_field_errors":
        return prefix
    return f"{prefix}.{key}" if prefix else str(key)
