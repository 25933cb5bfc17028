"""``/healthcheck`` and ``/ping``: unauthenticated, answered locally, never forwarded."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from topologies.storage.health import database_problem, zookeeper_problem


def _checks() -> dict[str, Callable[[], str | None]]:
    checks: dict[str, Callable[[], str | None]] = {"database": database_problem}
    if not settings.EPOCH.embedded:
        checks["zk-connection"] = lambda: zookeeper_problem(settings.EPOCH.zookeeper)
    return checks


def _run(check: Callable[[], str | None]) -> dict[str, Any]:
    started = time.monotonic()
    problem = check()
    result: dict[str, Any] = {
        "healthy": problem is None,
        "duration": round((time.monotonic() - started) * 1000),
        "timestamp": datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if problem is not None:
        result["message"] = problem
    return result


@require_GET
def healthcheck(request: HttpRequest) -> JsonResponse:
    results = {name: _run(check) for name, check in _checks().items()}
    healthy = all(result["healthy"] for result in results.values())
    response = JsonResponse(results, status=200 if healthy else 503)
    response["Cache-Control"] = "must-revalidate,no-cache,no-store"
    return response


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong", content_type="text/plain")
