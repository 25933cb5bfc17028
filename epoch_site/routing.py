"""Forwards requests to the elected leader (epoch-api.md §7).

In cluster mode one node leads; any node may receive any request. API calls and UI pages reaching
a follower are forwarded to the leader's registered URL with method, path, query, body, cookies and
credentials intact, and the leader's answer is passed back unchanged. Health checks, the housekeeping
leader endpoint, static files and the login pages are answered locally. The target is only ever
the address the leader registered in the election, never one taken from the request, and a
request that was forwarded once is never forwarded again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from scheduler.election import LeaderLookup
from topologies.storage.connection import shared_client
from topologies.storage.paths import Paths

log = logging.getLogger(__name__)

FORWARDED_BY = "X-Epoch-Forwarded-By"
LOCAL_PREFIXES = ("/healthcheck", "/ping", "/static/", "/login", "/logout", "/apis/housekeeping/")
HOP_BY_HOP = {
    "connection",
    "host",
    "content-length",
    "accept-encoding",
    "transfer-encoding",
    "vary",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
}
RESPONSE_DROPPED = HOP_BY_HOP | {"content-encoding"}

_lookup: LeaderLookup | None = None
_session = requests.Session()


def leader_lookup() -> LeaderLookup:
    global _lookup
    if _lookup is None:
        zookeeper = settings.EPOCH.zookeeper
        _lookup = LeaderLookup(shared_client(zookeeper), Paths(zookeeper.namespace))
    return _lookup


def failure(message: str) -> JsonResponse:
    return JsonResponse({"status": "FAILED", "message": message}, status=500)


class LeaderRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.EPOCH.embedded or request.path.startswith(LOCAL_PREFIXES):
            return self.get_response(request)
        me = settings.EPOCH.advertise_url
        try:
            leader = leader_lookup().leader()
        except Exception:  # noqa: BLE001 - ZooKeeper out of reach means no known leader
            leader = None
        if leader == me:
            return self.get_response(request)
        if request.headers.get(FORWARDED_BY):
            return failure(f"Error proxying request due to error: {me} is not the leader")
        if leader is None:
            return failure("No leader found in epoch cluster")
        return forward(request, leader)


def forward(request: HttpRequest, leader: str) -> HttpResponse:
    routing = settings.EPOCH.routing
    try:
        answer = _session.request(
            request.method or "GET",
            leader + request.get_full_path(),
            headers=_request_headers(request),
            data=request.body,
            timeout=(routing.connect_timeout.seconds, routing.read_timeout.seconds),
            allow_redirects=False,
            stream=False,
        )
    except requests.RequestException as error:
        log.warning(
            "Forwarding %s %s to %s failed: %r", request.method, request.path, leader, error
        )
        return failure(f"Error proxying request due to error: {_root_cause(error)}")
    return _response(answer)


def _request_headers(request: HttpRequest) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["X-Forwarded-For"] = request.META.get("REMOTE_ADDR", "")
    headers["X-Forwarded-Host"] = request.get_host()
    headers["X-Forwarded-Proto"] = request.scheme or "http"
    headers[FORWARDED_BY] = settings.EPOCH.advertise_url
    return headers


def _response(answer: requests.Response) -> HttpResponse:
    response = HttpResponse(answer.content, status=answer.status_code)
    for name, value in answer.headers.items():
        if name.lower() not in RESPONSE_DROPPED and name.lower() != "set-cookie":
            response[name] = value
    for cookie in _set_cookies(answer):
        response.cookies.load(cookie)  # Django sends each cookie as its own Set-Cookie header
    return response


def _set_cookies(answer: requests.Response) -> list[str]:
    """Every Set-Cookie header of the answer (requests folds repeated headers into one)."""
    raw: Any = answer.raw
    if raw is not None and hasattr(raw.headers, "getlist"):
        return list(raw.headers.getlist("Set-Cookie"))
    folded = answer.headers.get("Set-Cookie")
    return [folded] if folded else []


def _root_cause(error: BaseException) -> str:
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return str(error) or type(error).__name__
