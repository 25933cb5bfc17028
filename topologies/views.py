"""Server-rendered pages: the topology table with the create form, and one topology's page.

Pages read this node's SQL mirror; every change is made by the page's script through the API (or
the UI's JSON posts), so the server enforces roles whatever a page shows.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.generic import TemplateView

from epoch_site.accounts.permissions import ReadRequiredMixin
from scheduler.core.clock import SystemClock
from scheduler.core.triggers import next_fire
from scheduler.cron_text import describe
from topologies import models
from topologies.codec import details_to_json
from topologies.domain import ContainerTask, CronTrigger, RunState, TopologyState
from topologies.storage.sql import details_from_row, run_from_row

PAGE_SIZES = (10, 25, 50, 100)
SORTS = {
    "id": "id",
    "-id": "-id",
    "created": "created",
    "-created": "-created",
    "state": "state",
    "-state": "-state",
}


class HomeView(ReadRequiredMixin, TemplateView):
    template_name = "topologies/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = _filtered(self.request)
        size = _page_size(self.request)
        page = Paginator(rows, size).get_page(self.request.GET.get("page"))
        zone = ZoneInfo(settings.EPOCH.options.time_zone)
        context.update(
            page=page,
            topologies=[_table_row(row, zone) for row in page.object_list],
            query=self.request.GET.get("q", ""),
            sort=self.request.GET.get("sort", "id"),
            page_size=size,
            page_sizes=PAGE_SIZES,
            time_zone=zone.key,
        )
        return context


def _filtered(request: HttpRequest) -> Any:
    rows = models.Topology.objects.all()
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(Q(id__icontains=query) | Q(image__icontains=query))
    return rows.order_by(SORTS.get(request.GET.get("sort", "id"), "id"))


def _page_size(request: HttpRequest) -> int:
    size = request.GET.get("size", "25")
    return int(size) if size.isdigit() and int(size) in PAGE_SIZES else 25


def _table_row(row: models.Topology, zone: ZoneInfo) -> dict[str, Any]:
    details = details_from_row(row)
    last = models.TopologyRun.objects.filter(topology_id=row.id).order_by("-updated").first()
    return {
        "id": row.id,
        "image": row.image,
        "task_type": row.task_type,
        "trigger": _trigger_text(details.topology.trigger, zone),
        "state": row.state,
        "next_fire": _next_fire(details, zone),
        "last_run": last,
        "created": shown_time(row.created, zone),
    }


def _trigger_text(trigger: Any, zone: ZoneInfo) -> dict[str, str]:
    if isinstance(trigger, CronTrigger):
        try:
            description = describe(trigger.time_spec)
        except ValueError:
            description = "not a valid Quartz expression"
        return {"kind": "Cron", "value": trigger.time_spec, "description": description}
    return {"kind": "At", "value": shown_time(trigger.time, zone), "description": "once"}


def shown_time(epoch_ms: int, zone: ZoneInfo) -> str:
    """A time as every page shows it: to the second, in Epoch's zone (named beside it)."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M:%S")


def _next_fire(details: Any, zone: ZoneInfo) -> str:
    if details.state is not TopologyState.ACTIVE:
        return ""
    try:
        fire = next_fire(details.topology.trigger, SystemClock().now_ms(), zone)
    except ValueError:
        return ""
    return shown_time(fire, zone) if fire is not None else ""


class TopologyView(ReadRequiredMixin, TemplateView):
    template_name = "topologies/topology.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not models.Topology.objects.filter(id=kwargs["topology_id"]).exists():
            return HttpResponseRedirect("/", status=303)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        row = models.Topology.objects.get(id=kwargs["topology_id"])
        details = details_from_row(row)
        zone = ZoneInfo(settings.EPOCH.options.time_zone)
        state_filter = self.request.GET.get("state", "")
        runs = models.TopologyRun.objects.filter(topology_id=row.id).prefetch_related("task_runs")
        if state_filter in RunState.__members__:
            runs = runs.filter(state=state_filter)
        context.update(
            topology=details,
            row=_table_row(row, zone),
            definition_json=json.dumps(details_to_json(details), indent=2),
            form_values=_form_values(details),
            editable=isinstance(details.topology.task, ContainerTask)
            and isinstance(details.topology.trigger, CronTrigger),
            runs=[run_from_row(run) for run in runs.order_by("-updated")[:100]],
            run_states=[state.value for state in RunState],
            state_filter=state_filter,
            time_zone=zone.key,
        )
        return context


def _form_values(details: Any) -> dict[str, Any]:
    """What the edit form starts with, passed to the page's script as data (never as code)."""
    task, trigger, notify = details.topology.task, details.topology.trigger, details.topology.notify
    if not isinstance(task, ContainerTask):
        return {}
    resources = {r.get("type"): r for r in task.spec.get("resources", [])}
    return {
        "cron": trigger.time_spec if isinstance(trigger, CronTrigger) else "",
        "docker": (task.spec.get("executable") or {}).get("url", ""),
        "cpus": resources.get("CPU", {}).get("count", 1),
        "memory": resources.get("MEMORY", {}).get("sizeInMB", 512),
        "env": task.spec.get("env") or {},
        "volumes": task.spec.get("volumes") or [],
        "notifyEmail": ",".join(getattr(notify, "emails", ())),
    }
