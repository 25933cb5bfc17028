"""Normalisers for the JSON conventions of the original Epoch (epoch-model.md §1).

A normaliser takes a raw JSON value and its path and returns the canonical value, or ``None`` for
an absent or null one (null fields are omitted on output). It raises ``CodecError`` naming the path
for a value that cannot be read: a wrong type, an unknown ``type`` discriminator or enum value, an
unparsable duration or date. Unknown object keys are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from epoch_site.durations import Duration, DurationError

Normaliser = Callable[[Any, str], Any]
Schema = Mapping[str, Normaliser]


class CodecError(ValueError):
    """JSON that cannot be read as Epoch's model; the message starts with the JSON path."""


def text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise CodecError(f"{path}: expected a string, got {_kind(value)}")
    return str(value)


def integer(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CodecError(f"{path}: expected a whole number, got {_kind(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise CodecError(f"{path}: expected a whole number, got {_kind(value)}")


def boolean(value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise CodecError(f"{path}: expected true or false, got {_kind(value)}")


def duration(value: Any, path: str) -> str | None:
    if value is None:
        return None
    try:
        return str(Duration.parse(value))
    except DurationError as error:
        raise CodecError(f"{path}: {error}") from error


def date_ms(value: Any, path: str) -> int | None:
    """Epoch milliseconds from a number of ms or an ISO-8601 string with an offset."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return _iso_to_ms(value, path)
    raise CodecError(f"{path}: expected epoch milliseconds or an ISO-8601 date, got {_kind(value)}")


def _iso_to_ms(value: str, path: str) -> int:
    if value.strip().lstrip("-").isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise CodecError(f"{path}: '{value}' is not an ISO-8601 date") from error
    if parsed.tzinfo is None:
        raise CodecError(f"{path}: '{value}' needs a time zone offset such as Z or +05:30")
    return round(parsed.timestamp() * 1000)


def enum_of(*values: str, default: str | None = None) -> Normaliser:
    """Enum values are read case-insensitively and written upper-case."""

    def normalise(value: Any, path: str) -> str | None:
        if value is None:
            return default
        if isinstance(value, str) and value.upper() in values:
            return value.upper()
        raise CodecError(f"{path}: '{value}' is not one of {', '.join(values)}")

    return normalise


def text_map(value: Any, path: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CodecError(f"{path}: expected an object of strings, got {_kind(value)}")
    return {str(key): text(item, f"{path}.{key}") or "" for key, item in value.items()}


def list_of(item: Normaliser) -> Normaliser:
    def normalise(value: Any, path: str) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise CodecError(f"{path}: expected a list, got {_kind(value)}")
        return [item(element, f"{path}[{index}]") for index, element in enumerate(value)]

    return normalise


def obj(schema: Schema, defaults: Mapping[str, Any] | None = None) -> Normaliser:
    """An object with known keys, in the schema's order; unknown keys dropped, nulls omitted."""

    def normalise(value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        return normalise_fields(require_object(value, path), schema, path, defaults or {})

    return normalise


def normalise_fields(
    raw: Mapping[str, Any], schema: Schema, path: str, defaults: Mapping[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, normaliser in schema.items():
        value = normaliser(raw.get(key), join(path, key))
        if value is None:
            value = defaults.get(key)
        if value is not None:
            result[key] = value
    return result


def one_of(variants: Mapping[str, Schema], default_type: str | None = None) -> Normaliser:
    """An object whose exact upper-case ``type`` picks its schema; ``type`` is written first."""

    def normalise(value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        raw = require_object(value, path)
        kind = discriminator(raw, path, tuple(variants), default_type)
        return {"type": kind, **normalise_fields(raw, variants[kind], path, {})}

    return normalise


def discriminator(
    raw: Mapping[str, Any], path: str, allowed: tuple[str, ...], default: str | None = None
) -> str:
    kind = raw.get("type", default)
    if kind is None:
        raise CodecError(f"{join(path, 'type')}: missing type (one of {', '.join(allowed)})")
    if kind not in allowed:
        raise CodecError(
            f"{join(path, 'type')}: unknown type '{kind}' (one of {', '.join(allowed)})"
        )
    return str(kind)


def require_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"{path or 'body'}: expected an object, got {_kind(value)}")
    return value


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    names = {bool: "a boolean", dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "null")
