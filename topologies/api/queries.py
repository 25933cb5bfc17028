"""List answers served from this node's SQL mirror, with optional paging, sorting and search.

Without paging parameters the answers are the original's: every topology sorted by id, every run
newest ``updated`` first. ``page``/``pageSize``, ``sort`` and ``search`` narrow them; the total
count is sent in ``X-Total-Count`` so that ``data`` keeps its original shape.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from epoch_site.api.envelope import success
from topologies import models
from topologies.codec import details_to_json, run_to_json
from topologies.storage.sql import details_from_row, run_from_row

MAX_PAGE_SIZE = 500
TOPOLOGY_SORTS = {"id", "-id", "created", "-created", "updated", "-updated", "state", "-state"}
RUN_SORTS = {"updated", "-updated", "created", "-created", "run_id", "-run_id"}


def topology_list(request: Request) -> Response:
    rows = models.Topology.objects.all()
    search = request.query_params.get("search", "").strip()
    if search:
        rows = rows.filter(id__icontains=search)
    rows = rows.order_by(_sort(request, TOPOLOGY_SORTS, "id"))
    return _answer(request, rows, lambda row: details_to_json(details_from_row(row)))


def run_list(request: Request, topology_id: str, states: set[str] | None) -> Response:
    rows = models.TopologyRun.objects.filter(topology_id=topology_id).prefetch_related("task_runs")
    if states is not None:
        rows = rows.filter(state__in=states)
    rows = rows.order_by(_sort(request, RUN_SORTS, "-updated"))
    return _answer(request, rows, lambda row: run_to_json(run_from_row(row)))


def _sort(request: Request, allowed: set[str], default: str) -> str:
    sort = request.query_params.get("sort", default)
    if sort not in allowed:
        raise ValidationError([f"sort Invalid value: {sort} (one of {', '.join(sorted(allowed))})"])
    return sort


def _answer(request: Request, rows: Any, render: Any) -> Response:
    total = rows.count()
    page, size = _paging(request)
    if size is not None:
        rows = rows[(page - 1) * size : page * size]
    response = success([render(row) for row in rows])
    response["X-Total-Count"] = str(total)
    return response


def _paging(request: Request) -> tuple[int, int | None]:
    params = request.query_params
    if "page" not in params and "pageSize" not in params:
        return 1, None
    return _positive(params.get("page", "1"), "page"), min(
        _positive(params.get("pageSize", "50"), "pageSize"), MAX_PAGE_SIZE
    )


def _positive(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValidationError([f"{name} must be a whole number of at least 1"])
    return int(value)
