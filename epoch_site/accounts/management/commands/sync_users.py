from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from epoch_site.accounts.services import sync_users


class Command(BaseCommand):
    help = "Create or update the users of the configuration (run at every start)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_users(settings.EPOCH.auth)
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("disabled", report.disabled),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(names)}")
        if not settings.EPOCH.auth.enabled:
            self.stdout.write("authentication is disabled: every request may read and write")
