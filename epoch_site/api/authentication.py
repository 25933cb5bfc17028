from __future__ import annotations

from typing import Any

from rest_framework import authentication


class BasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic with the original's challenge, ``Basic realm="realm"``; off when auth is disabled."""

    www_authenticate_realm = "realm"

    def authenticate(self, request: Any) -> Any:
        from epoch_site.accounts.permissions import auth_enabled

        # With authentication disabled the original ignored any Authorization header.
        return super().authenticate(request) if auth_enabled() else None
