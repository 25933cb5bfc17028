"""Reading fields of a parsed JSON body the way Drove's Jackson + bean validation does.

``Fields`` reads one value at a time. A value of the wrong JSON type, an unknown ``type``
discriminator, an unknown enum value or a bad duration raises ``JsonFailure`` at once (Jackson
stops at the first); rule violations (empty, null, out of range) are collected as
``"<path> <message>"`` strings and raised together as ``BeanFailure``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from epoch_site.durations import Duration, DurationError

ID_PATTERN = re.compile(r"[a-zA-Z\d\-_]*")
ID_MESSAGE = "- Only characters, numbers, hyphen and underscore is allowed"
MUST_NOT_BE_EMPTY = "must not be empty"
MUST_NOT_BE_NULL = "must not be null"
JAVA_PACKAGE = "com.phonepe.drove.models"


class JsonFailure(Exception):
    """The body could not be read; ``str()`` is the parser's message."""


class BeanFailure(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Fields:
    """Reads fields of JSON objects, collecting bean violations as it goes."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def violation(self, path: str, message: str) -> None:
        self.errors.append(f"{path} {message}")

    def raise_if_any(self) -> None:
        if self.errors:
            raise BeanFailure(self.errors)

    def text(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> str | None:
        value = obj.get(key)
        if isinstance(value, dict | list):
            raise JsonFailure(
                f"Cannot deserialize value of type `java.lang.String` from {kind_of(value)}"
            )
        text = (
            None if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        if required and not text:
            self.violation(path, MUST_NOT_BE_EMPTY)
        return text

    def task_id(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        text = self.text(obj, key, path) or ""
        if not ID_PATTERN.fullmatch(text):
            self.violation(path, ID_MESSAGE)
        return text

    def integer(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        number = as_int(value)
        if low is not None and number < low:
            self.violation(path, f"must be greater than or equal to {low}")
        if high is not None and number > high:
            self.violation(path, f"must be less than or equal to {high}")
        return number

    def duration(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        value = obj.get(key)
        if value is None:
            self.violation(path, MUST_NOT_BE_NULL)
            return None
        try:
            return str(Duration.parse(value))
        except DurationError as error:
            raise JsonFailure(
                f"Cannot construct instance of `io.dropwizard.util.Duration`, problem: Invalid duration: {value}"
            ) from error

    def enum(
        self, obj: Mapping[str, Any], key: str, path: str, values: tuple[str, ...]
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            self.violation(path, MUST_NOT_BE_NULL)
            return None
        upper = str(value).upper()
        if upper not in values:
            raise JsonFailure(
                f'Cannot deserialize value of type `{path}` from String "{value}": not one of the '
                f"values accepted for Enum class: [{', '.join(values)}]"
            )
        return upper

    def child(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        read: Callable[[Fields, Mapping[str, Any], str], dict[str, Any]],
    ) -> dict[str, Any] | None:
        value = obj.get(key)
        if value is None:
            self.violation(path, MUST_NOT_BE_NULL)
            return None
        if not isinstance(value, Mapping):
            raise JsonFailure(f"Cannot deserialize `{path}` from {kind_of(value)}")
        return read(self, value, path)

    def items(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        read: Callable[[Fields, Mapping[str, Any], str], dict[str, Any]],
    ) -> list[dict[str, Any]] | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise JsonFailure(f"Cannot deserialize `{path}` (a list) from {kind_of(value)}")
        return [
            read(self, object_at(item, f"{path}[{i}]"), f"{path}[{i}]")
            for i, item in enumerate(value)
        ]


def typed(raw: Any, path: str, base: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    obj = object_at(raw, path or "operation")
    kind = obj.get("type")
    if kind is None:
        raise JsonFailure(
            f"Missing type id when trying to resolve subtype of [simple type, class {JAVA_PACKAGE}.{base}]: "
            "missing type id property 'type'"
        )
    if kind not in known:
        raise JsonFailure(unknown_type(kind, base, known))
    return obj


def unknown_type(kind: Any, base: str, known: tuple[str, ...]) -> str:
    return (
        f"Could not resolve type id '{kind}' as a subtype of [simple type, class {JAVA_PACKAGE}.{base}]: "
        f"known type ids = [{', '.join(known)}]"
    )


def object_at(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise JsonFailure(f"Cannot deserialize `{path}` from {kind_of(value)}")
    return value


def list_at(value: Any, path: str) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise JsonFailure(f"Cannot deserialize `{path}` (a list) from {kind_of(value)}")
    return value


def string_map(value: Any, path: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise JsonFailure(f"Cannot deserialize `{path}` (a map) from {kind_of(value)}")
    return {str(k): str(v) for k, v in value.items() if v is not None}


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise JsonFailure(f"Cannot deserialize value of type `long` from {kind_of(value)}")
    try:
        return int(value)
    except ValueError as error:
        raise JsonFailure(
            f'Cannot deserialize value of type `long` from String "{value}"'
        ) from error


def wrong_type(expected: str, value: Any) -> str:
    return f"Cannot deserialize value of type `{JAVA_PACKAGE}.{expected}` from {kind_of(value)}"


def kind_of(value: Any) -> str:
    if value is None:
        return "null value"
    names = {dict: "Object value", list: "Array value", str: "String value", bool: "Boolean value"}
    return next((name for t, name in names.items() if isinstance(value, t)), "Number value")


def prefix(path: str) -> str:
    return f"{path}." if path else ""


def put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def compact(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
