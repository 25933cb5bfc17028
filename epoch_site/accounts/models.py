"""Epoch's users: declared in configuration and mirrored into each node's database at start-up."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    READ_WRITE = "READ_WRITE", "Admin (read/write)"
    READ_ONLY = "READ_ONLY", "Guest (read-only)"

    @property
    def role_string(self) -> str:
        """The original's role string, e.g. ``EPOCH_EXTERNAL_READ_WRITE``."""
        return f"EPOCH_EXTERNAL_{self.value}"


class User(AbstractUser):
    # The username is the key, so a session made on one node names the same user on every node.
    username = models.CharField(max_length=255, primary_key=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READ_ONLY)

    @property
    def can_write(self) -> bool:
        return self.is_active and self.role == Role.READ_WRITE
