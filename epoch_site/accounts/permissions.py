"""The one place that decides who may read and who may write, for the API and the UI alike."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission


def auth_enabled() -> bool:
    return bool(settings.EPOCH.auth.enabled)


def can_read(user: Any) -> bool:
    """Any authenticated, active user may read; everyone may when authentication is off."""
    if not auth_enabled():
        return True
    return bool(user and user.is_authenticated and user.is_active)


def can_write(user: Any) -> bool:
    """Only READ_WRITE users may change state; everyone may when authentication is off."""
    if not auth_enabled():
        return True
    return can_read(user) and bool(getattr(user, "can_write", False))


def role_label(user: Any) -> str:
    if not auth_enabled():
        return "READ_WRITE"
    return str(getattr(user, "role", "")) if can_read(user) else ""


class EpochRolePermission(BasePermission):
    """DRF: reads need ``can_read``, every other method needs ``can_write``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return can_read(request.user)
        return can_write(request.user)


class ReadRequiredMixin(AccessMixin):
    """UI views: a signed-in reader, else a redirect to the login page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_read(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class WriteRequiredMixin(ReadRequiredMixin):
    """UI views that change state: a READ_WRITE user, else 403 (or the login page when signed out)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if can_read(request.user) and not can_write(request.user):
            raise PermissionDenied("Guests may look but not change anything")
        return super().dispatch(request, *args, **kwargs)
