"""Error pages for requests no view answered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


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
