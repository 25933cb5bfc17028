"""Site pages that belong to no single app: the home page until the topology UI lands, and errors."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import TemplateView

from epoch_site.accounts.permissions import ReadRequiredMixin


class HomeView(ReadRequiredMixin, TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        config = settings.EPOCH
        context["mode"] = "embedded single node" if config.embedded else "cluster"
        context["drove_endpoints"] = config.drove.endpoints
        context["time_zone"] = config.options.time_zone
        context["node_name"] = config.node_name
        return context


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/apis/"):
        return JsonResponse({"status": "FAILED", "message": "[2002]: Not Found"}, status=404)
    return HttpResponse("Not Found", status=404, content_type="text/plain")


def server_error(request: HttpRequest) -> HttpResponse:
    body = {
        "status": "FAILED",
        "data": {"failure": "Internal error"},
        "message": "Unexpected Server error",
    }
    return JsonResponse(body, status=500)
