"""Drove's user authentication and role check (drove-api.md §8.1).

Order of checks on every ``/apis`` call: credentials (401) -> role (403) -> leadership (400).
With no users configured authentication is off: every caller is ``default-user`` with root rights
and credentials are ignored.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from drove_client.simulator.settings import OPERATION_ROLES, ROLES, SimSettings
from drove_client.simulator.wire import Answer

UNAUTHORIZED = Answer(
    401,
    b"Credentials are required to access this resource.",
    "text/plain",
    (("WWW-Authenticate", 'Basic realm="realm"'),),
)
FORBIDDEN = Answer(403, b"", None)


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # a key of ROLES

    @property
    def role_string(self) -> str:
        return ROLES[self.role]

    @property
    def may_run_operations(self) -> bool:
        return self.role in OPERATION_ROLES


DEFAULT_USER = Identity("default-user", "EXTERNAL_ROOT")


def identify(authorization: str | None, settings: SimSettings) -> Identity | None:
    """The caller, or None when authentication is on and the credentials are missing or wrong."""
    if not settings.users:
        return DEFAULT_USER
    name, password = _basic_credentials(authorization or "")
    user = settings.users.get(name or "")
    if user is None or password is None:
        return None
    if not secrets.compare_digest(user.password.encode(), password.encode()):
        return None
    return Identity(user.username, user.role)


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    name, colon, password = decoded.partition(":")
    return (name, password) if colon else (None, None)
