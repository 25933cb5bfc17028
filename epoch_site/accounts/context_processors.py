from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from epoch_site.accounts.permissions import auth_enabled, can_write, role_label


def roles(request: HttpRequest) -> dict[str, Any]:
    """Every page knows who is signed in, their role, whether to show write controls, and the
    time zone Epoch schedules in (every time on a page is shown in it)."""
    user = getattr(request, "user", None)
    return {
        "epoch_can_write": can_write(user),
        "epoch_role": role_label(user),
        "epoch_auth_enabled": auth_enabled(),
        "epoch_time_zone": settings.EPOCH.options.time_zone,
    }
