from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from scheduler.core.clock import SystemClock
from scheduler.cron_preview import PreviewError, preview

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Print the next fire times of a Quartz cron expression."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("expression", help='a Quartz expression, e.g. "0 30 2 ? * MON-FRI"')
        parser.add_argument("--timezone", default=None, help="IANA zone (default: the scheduler's)")
        parser.add_argument("--count", type=int, default=5, help="how many fire times (1-100)")
        parser.add_argument(
            "--after", default=None, help="ISO-8601 instant to start after (default: now)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        timezone = options["timezone"] or settings.EPOCH.options.time_zone
        try:
            after_ms = _instant_ms(options["after"])
            result = preview(options["expression"], timezone, options["count"], after_ms)
        except PreviewError as error:
            for problem in error.problems:
                self.stderr.write(f"error: {problem}")
            sys.exit(EXIT_BAD_INPUT)
        data = result.to_json()
        self.stdout.write(f"{result.expression}  ({result.timezone})\n{result.description}\n")
        self.stdout.write(f"{'#':>3}  {'epoch ms':<14} local time")
        for index, fire in enumerate(data["nextFireTimes"], start=1):  # type: ignore[arg-type]
            self.stdout.write(f"{index:>3}  {fire['epochMs']:<14} {fire['iso']}")
        if not result.fire_times_ms:
            self.stdout.write("  (no further fire times)")


def _instant_ms(text: str | None) -> int:
    if text is None:
        return SystemClock().now_ms()
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise PreviewError([f"after '{text}' is not an ISO-8601 instant"]) from error
    if instant.tzinfo is None:
        raise PreviewError([f"after '{text}' needs an offset such as Z or +05:30"])
    return round(instant.timestamp() * 1000)
