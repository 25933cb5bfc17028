from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from epoch_site.api.envelope import success
from scheduler.core.clock import SystemClock
from scheduler.cron_preview import PreviewError, preview

DEFAULT_COUNT = 5


class CronPreviewView(APIView):
    """``GET /apis/v1/cron/preview``: the next fire times and a description of an expression."""

    def get(self, request: Request) -> Response:
        params = request.query_params
        count = _whole(params.get("count", str(DEFAULT_COUNT)), "count")
        after = _whole(params.get("after", str(SystemClock().now_ms())), "after")
        timezone = params.get("timezone") or settings.EPOCH.options.time_zone
        try:
            result = preview(params.get("expression", ""), timezone, count, after)
        except PreviewError as error:
            raise ValidationError(error.problems) from error
        return success(result.to_json())


def _whole(text: str, name: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValidationError([f"{name} must be a whole number, got '{text}'"])
    return int(text)
