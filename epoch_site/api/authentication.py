"""HTTP Basic for the API, with the original's challenge and its credential cache.

Passwords are stored with a deliberately slow hash, so checking one on every API call would cost
tens of milliseconds of CPU. Like the original (``userAuth.cachingPolicy``: at most 500 entries,
expiring 30 minutes after last use), a successful check is remembered, keyed by a digest of the
credentials; it is only honoured while the user's stored password is unchanged and active.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication

CACHE_SIZE = 500
CACHE_IDLE_S = 30 * 60


class CredentialCache:
    def __init__(self, size: int = CACHE_SIZE, idle_s: float = CACHE_IDLE_S) -> None:
        self.size = size
        self.idle_s = idle_s
        self._entries: OrderedDict[str, tuple[float, str, str]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, password: str) -> str:
        return hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()

    def user(self, key: str) -> Any:
        """The cached user for these credentials, if still valid."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self.idle_s:
                self._entries.pop(key, None)
                return None
            self._entries[key] = (time.monotonic(), entry[1], entry[2])
            self._entries.move_to_end(key)
        user = get_user_model().objects.filter(pk=entry[1]).first()
        return user if user is not None and user.is_active and user.password == entry[2] else None

    def remember(self, key: str, user: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), user.pk, user.password)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


credentials = CredentialCache()


class BasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic with the original's challenge, ``Basic realm="realm"``; off when auth is disabled."""

    www_authenticate_realm = "realm"

    def authenticate(self, request: Any) -> Any:
        from epoch_site.accounts.permissions import auth_enabled

        # With authentication disabled the original ignored any Authorization header.
        return super().authenticate(request) if auth_enabled() else None

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        key = credentials.key(userid, password)
        user = credentials.user(key)
        if user is not None:
            return (user, None)
        user, auth = super().authenticate_credentials(userid, password, request)
        credentials.remember(key, user)
        return (user, auth)
