"""Typed access to a parsed YAML tree by dotted key, remembering which keys were read.

Every accessor raises ``ConfigError`` naming the dotted key when the value has the wrong type, so a
bad config file stops start-up with one message an operator can act on.
"""

from __future__ import annotations

import logging
from typing import Any

from epoch_site.durations import Duration, DurationError

log = logging.getLogger("epoch_site.config")

_MISSING = object()


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the key and the problem."""


class Reader:
    def __init__(self, tree: dict[str, Any]) -> None:
        self._tree = tree
        self._read: set[str] = set()
        self._opaque: set[str] = set()

    def accept_any(self, *keys: str) -> None:
        """Mark subtrees that are accepted as they are (the original's server/metrics blocks)."""
        self._opaque.update(keys)

    def raw(self, key: str) -> Any:
        self._read.add(key)
        node: Any = self._tree
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, dict | list):
            raise ConfigError(f"{key}: expected text, got {type(value).__name__}")
        return str(value)

    def integer(self, key: str, default: int, minimum: int | None = None) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError as error:
            raise ConfigError(f"{key}: expected a whole number, got {value!r}") from error
        if minimum is not None and number < minimum:
            raise ConfigError(f"{key}: must be at least {minimum}, got {number}")
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(f"{key}: expected true or false, got {value!r}")

    def duration(self, key: str, default: Duration) -> Duration:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return Duration.parse(value)
        except DurationError as error:
            raise ConfigError(f"{key}: {error}") from error

    def str_list(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{key}: expected a list of text values")
        return list(value)

    def warn_unknown_keys(self) -> None:
        for key in sorted(self._unknown_keys(self._tree, "")):
            log.warning("Unknown configuration key ignored: %s", key)

    def _unknown_keys(self, node: Any, prefix: str) -> list[str]:
        unknown = []
        for name, value in node.items():
            key = f"{prefix}{name}"
            if key in self._read or key in self._opaque:
                continue
            if isinstance(value, dict) and any(k.startswith(f"{key}.") for k in self._read):
                unknown += self._unknown_keys(value, f"{key}.")
            elif not any(k.startswith(f"{key}.") for k in self._read | self._opaque):
                unknown.append(key)
        return unknown
