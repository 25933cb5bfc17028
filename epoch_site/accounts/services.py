"""User synchronisation: the configuration's users become the database's users, on every node alike."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from epoch_site.accounts.models import User
from epoch_site.config import DEFAULT_PASSWORDS, AuthConfig, UserSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    disabled: tuple[str, ...]


@transaction.atomic
def sync_users(auth: AuthConfig) -> SyncReport:
    """Create or update every configured user and disable users the configuration no longer has."""
    created, updated = [], []
    for spec in auth.users:
        was_created = _apply_user(spec)
        (created if was_created else updated).append(spec.username)
        _warn_on_default_password(spec)
    configured = [spec.username for spec in auth.users]
    stale = User.objects.exclude(username__in=configured).filter(is_active=True)
    disabled = tuple(stale.values_list("username", flat=True))
    stale.update(is_active=False)
    return SyncReport(tuple(created), tuple(updated), disabled)


def _apply_user(spec: UserSpec) -> bool:
    _, created = User.objects.update_or_create(
        username=spec.username,
        defaults={
            "password": node_independent_hash(spec.username, spec.password),
            "role": spec.role,
            "is_active": True,
        },
    )
    return created


def node_independent_hash(username: str, password: str) -> str:
    """Hash a password with a salt every node derives alike.

    Django ties a session to the stored password hash, so all nodes of a cluster must store the
    same hash for a session cookie made on one node to be valid on the others.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256)
    salt = digest.hexdigest()[:22]
    return make_password(password, salt=salt)


def _warn_on_default_password(spec: UserSpec) -> None:
    if DEFAULT_PASSWORDS.get(spec.username) == spec.password:
        log.warning(
            "User '%s' has its default password; set %s_PASSWORD before exposing Epoch",
            spec.username,
            spec.username.upper(),
        )
