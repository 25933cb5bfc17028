"""Quartz cron expressions: parsing and validation (stdlib only).

An expression has six or seven fields separated by blanks or tabs,
``second minute hour day-of-month month day-of-week [year]``. ``parse_fields`` checks it and
returns ``CronFields`` (``scheduler.core.cron_fields``).

Invariants:

* An expression is accepted exactly when Quartz 2.3.2 accepts it, except where Quartz accepts it
  only by ignoring or misreading part of it (more than 7 fields, text after a complete token, an
  empty list element, a step of 0, ``L``/``L-n``/``W`` where they mean nothing, ``0W``): Epoch
  rejects those.
* Each list element must match one rule of ``_RULES`` completely; the rules store values as
  Quartz does, quirks included (a literal 99 means "every value", a literal 98 in the day
  fields means '?', ``n#k`` keeps ``n`` unchecked), so that Epoch fires whenever Quartz fires.
* Every rejection is one ``CronSyntaxError`` naming the field, the offset in the expression and
  the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.core.cron_fields import (
    ALL_SPEC,
    DAY_FIELDS,
    DAY_NAMES,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELDS,
    LAST_YEAR,
    MONTH,
    MONTH_NAMES,
    NO_SPEC,
    YEAR,
    YEARS_AHEAD,
    CronFields,
    CronSyntaxError,
    FieldSpec,
)

_INT_MAX = 2**31 - 1  # Quartz parses numbers as Java ints
_JAVA_BLANKS = "".join(chr(code) for code in range(33))  # what Java's String.trim() removes


def parse_fields(expression: str, current_year: int) -> CronFields:
    """Parse and validate ``expression``; raise ``CronSyntaxError`` when Epoch rejects it."""
    tokens = _split_fields(expression)
    builder = _Builder(expression, current_year + YEARS_AHEAD)
    for spec, (position, token) in zip(FIELDS, tokens, strict=False):
        builder.add_field(spec, token, position)
    if len(tokens) == len(FIELDS) - 1:
        builder.store(YEAR, ALL_SPEC, None, None, "*", len(expression))
    builder.check_day_fields(tokens[DAY_OF_WEEK.index][0])
    return builder.build()


def _split_fields(expression: str) -> list[tuple[int, str]]:
    # Quartz splits on blanks and tabs only and trims control characters off each field.
    tokens = []
    for match in re.finditer(r"[^ \t]+", expression):
        stripped = match.group().lstrip(_JAVA_BLANKS)
        lead = len(match.group()) - len(stripped)
        tokens.append((match.start() + lead, stripped.rstrip(_JAVA_BLANKS)))
    if len(tokens) > len(FIELDS):
        raise CronSyntaxError("expression", tokens[7][0], f"more than 7 fields ({len(tokens)})")
    if len(tokens) < len(FIELDS) - 1:
        raise CronSyntaxError("expression", len(expression), _too_few_fields(len(tokens)))
    return tokens


def _too_few_fields(count: int) -> str:
    layout = "second minute hour day-of-month month day-of-week [year]"
    if count == 0:
        return f"the expression is empty; expected 6 or 7 fields ({layout})"
    return f"{count} fields, expected 6 or 7 ({layout})"


class _Builder:
    """Collects field values and day flags the way Quartz stores them."""

    def __init__(self, expression: str, max_year: int) -> None:
        self.expression = expression
        self.max_year = max_year
        self.values: list[set[int]] = [set() for _ in FIELDS]
        self.last_day_of_month = False
        self.last_day_offset = 0
        self.nearest_weekday = False
        self.last_weekday_of_month = False
        self.nth_weekday = 0

    def add_field(self, spec: FieldSpec, token: str, position: int) -> None:
        text = token.upper()  # Quartz upper-cases the whole expression: names in any case
        _check_whole_field(spec, text, position)
        for offset, element in _elements(text):
            _parse_element(self, spec, element, position + offset)

    def store(
        self, spec: FieldSpec, start: int, end: int | None, step: int | None, text: str, at: int
    ) -> None:
        """Store a value, a range or a stepped range as Quartz does (wrapping, 98/99 markers)."""
        _check_range(spec, start, end, text, at)
        values = self.values[spec.index]
        if step is None and start != ALL_SPEC:
            values.add(start)
            return
        if step is None:
            values.add(ALL_SPEC)  # '*' (or 99): the marker plus every value
        first = spec.low if start == ALL_SPEC else start
        last = self._high(spec) if end is None else end
        values.update(self._stepped(spec, first, last, step or 1, text, at))

    def _high(self, spec: FieldSpec) -> int:
        return self.max_year if spec is YEAR else spec.high

    def _stepped(
        self, spec: FieldSpec, first: int, last: int, step: int, text: str, at: int
    ) -> list[int]:
        if last >= first:
            if spec is YEAR:
                last = min(last, LAST_YEAR)  # later years never fire; '1970-2147483647' stays small
            return list(range(first, last + 1, step))
        if not spec.cycle:
            raise CronSyntaxError(spec.name, at, f"start year is after end year in '{text}'")
        wrapped = (value % spec.cycle for value in range(first, last + spec.cycle + 1, step))
        # One-based fields (days, months) read the cycle's 0 as its last value: 28-3 includes 31.
        return [value or (spec.cycle if spec.one_based else 0) for value in wrapped]

    def check_day_fields(self, position: int) -> None:
        by_month = NO_SPEC not in self.values[DAY_OF_MONTH.index]
        by_week = NO_SPEC not in self.values[DAY_OF_WEEK.index]
        if by_month == by_week:
            problem = "exactly one of day-of-month and day-of-week must be '?'"
            raise CronSyntaxError(DAY_OF_WEEK.name, position, problem)

    def build(self) -> CronFields:
        seconds, minutes, hours, days, months, weekdays, years = (
            tuple(sorted(values)) for values in self.values
        )
        return CronFields(
            seconds,
            minutes,
            hours,
            days,
            months,
            weekdays,
            years,
            max_year=self.max_year,
            last_day_of_month=self.last_day_of_month,
            last_day_offset=self.last_day_offset,
            nearest_weekday=self.nearest_weekday,
            last_weekday_of_month=self.last_weekday_of_month,
            nth_weekday=self.nth_weekday,
        )


def _check_whole_field(spec: FieldSpec, text: str, position: int) -> None:
    if spec in DAY_FIELDS and "L" in text and len(text) > 1 and "," in text:
        raise CronSyntaxError(spec.name, position, "'L' cannot be combined with other values")
    if spec is DAY_OF_WEEK and text.count("#") > 1:
        raise CronSyntaxError(spec.name, position, "only one '#' value is supported")


def _elements(text: str) -> list[tuple[int, str]]:
    elements, offset = [], 0
    for element in text.split(","):
        elements.append((offset, element))
        offset += len(element) + 1
    return elements


def _check_range(spec: FieldSpec, start: int, end: int | None, text: str, at: int) -> None:
    # Quartz never checks years, and lets 99 (and, in the day fields, 98) through as markers.
    exempt = (ALL_SPEC, NO_SPEC) if spec in DAY_FIELDS else (ALL_SPEC,)
    if spec is YEAR or start in exempt:
        return
    low = 1 if spec is DAY_OF_WEEK else spec.low  # day-of-week: Quartz only rejects 0 and > 7
    if start < low or start > spec.high or (end is not None and end > spec.high):
        raise CronSyntaxError(spec.name, at, f"'{text}' is out of range {spec.low}-{spec.high}")


def _number(digits: str, spec: FieldSpec, at: int) -> int:
    value = int(digits)
    if value > _INT_MAX:
        raise CronSyntaxError(spec.name, at, f"number '{digits}' is too large")
    return value


def _java_int(text: str, spec: FieldSpec, at: int) -> int:
    """Java's Integer.parseInt, which Quartz uses after '*/' and '#': an optional sign, digits."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise CronSyntaxError(spec.name, at, f"'{text}' is not a number")
    value = int(text)
    if abs(value) > _INT_MAX:
        raise CronSyntaxError(spec.name, at, f"number '{text}' is too large")
    return value


def _check_step(spec: FieldSpec, step: int, text: str, at: int, *, limited: bool) -> None:
    if step < 1:
        raise CronSyntaxError(spec.name, at, f"a step must be at least 1 in '{text}'")
    if limited and spec.step_limit is not None and step > spec.step_limit:
        problem = f"step {step} is larger than {spec.step_limit} in '{text}'"
        raise CronSyntaxError(spec.name, at, problem)


# ---------------------------------------------------------------------------------------------
# Elements. Each rule is a full-match pattern and the fields it is allowed in; anything that no
# rule matches is rejected (Quartz either fails on it or would ignore part of it).

_Handler = Callable[[_Builder, FieldSpec, "re.Match[str]", int], None]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    fields: tuple[FieldSpec, ...]
    handler: _Handler


def _parse_element(builder: _Builder, spec: FieldSpec, element: str, at: int) -> None:
    for rule in _RULES:
        match = rule.pattern.fullmatch(element)
        if match and spec in rule.fields:
            rule.handler(builder, spec, match, at)
            return
    raise CronSyntaxError(spec.name, at, _diagnose(spec, element))


def _every(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    builder.store(spec, ALL_SPEC, None, None, match.group(), at)


def _every_step(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    step = _java_int(match["step"], spec, at)
    _check_step(spec, step, match.group(), at, limited=True)
    builder.store(spec, ALL_SPEC, None, step, match.group(), at)


def _numbers(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    start = _number(match["start"], spec, at)
    end = None if match["end"] is None else _number(match["end"], spec, at)
    step = None if match["step"] is None else _number(match["step"], spec, at)
    if step is not None:
        # Quartz checks the step's size only without an end: '0/60' fails, '0-59/60' does not.
        _check_step(spec, step, match.group(), at, limited=end is None)
    builder.store(spec, start, end, 1 if end is not None and step is None else step, match[0], at)


def _no_specific_value(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    if spec is DAY_OF_WEEK and not builder.last_day_of_month:
        days = builder.values[DAY_OF_MONTH.index]
        if not days or max(days) == NO_SPEC:
            raise CronSyntaxError(spec.name, at, "'?' cannot be used in both day fields")
    builder.store(spec, NO_SPEC, None, None, "?", at)


def _last_day_of_month(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    offset = 0 if match["offset"] is None else _number(match["offset"], spec, at)
    if offset > 30:
        raise CronSyntaxError(spec.name, at, f"offset {offset} from the last day is larger than 30")
    builder.last_day_of_month = True
    builder.last_day_offset = offset
    builder.nearest_weekday = builder.nearest_weekday or bool(match["weekday"])


def _nearest_weekday(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    day = _number(match["day"], spec, at)
    if not 1 <= day <= 31:
        raise CronSyntaxError(spec.name, at, f"day {day} is out of range 1-31 in '{match[0]}'")
    builder.values[spec.index].add(day)
    builder.nearest_weekday = True


def _saturday(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    builder.store(spec, 7, 7, None, "L", at)  # 'L' alone in day-of-week means Saturday


def _last_weekday(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    day = _day_value(match["day"], spec, at)
    if not 1 <= day <= 7:
        raise CronSyntaxError(spec.name, at, f"'{match[0]}' is out of range 1-7")
    builder.values[spec.index].add(day)
    builder.last_weekday_of_month = True


def _nth_weekday(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    day = _day_value(match["day"], spec, at)  # Quartz stores a numeric day here unchecked
    # After '#' Quartz reads the rest with Java's Integer.parseInt, which allows a sign.
    nth = int(match["nth"]) if re.fullmatch(r"[+-]?[0-9]{1,10}", match["nth"]) else 0
    if not 1 <= nth <= 5:
        raise CronSyntaxError(spec.name, at, f"'#' must be followed by 1-5 in '{match[0]}'")
    builder.values[spec.index].add(day)
    builder.nth_weekday = nth


def _names(builder: _Builder, spec: FieldSpec, match: re.Match[str], at: int) -> None:
    start = _name_value(match["start"], spec, at)
    if not match["end"]:
        builder.store(spec, start, None, None, match[0], at)
    else:
        builder.store(spec, start, _name_value(match["end"], spec, at), 1, match[0], at)


def _day_value(text: str, spec: FieldSpec, at: int) -> int:
    return _number(text, spec, at) if text.isdigit() else _name_value(text, spec, at)


def _name_value(name: str, spec: FieldSpec, at: int) -> int:
    names = _names_of(spec)
    if name not in names:
        kind = "month name (JAN-DEC)" if spec is MONTH else "day name (SUN-SAT)"
        raise CronSyntaxError(spec.name, at, f"'{name}' is not a {kind}")
    return names.index(name) + 1


_ALL = FIELDS
_DAY = r"(?P<day>[0-9]+|[A-Z]{3})"
_RULES = (
    _Rule(re.compile(r"\*"), _ALL, _every),
    _Rule(re.compile(r"\*?/(?P<step>.+)"), _ALL, _every_step),
    _Rule(
        re.compile(r"(?P<start>[0-9]+)(?:-(?P<end>[0-9]+))?(?:/(?P<step>[0-9]+))?"), _ALL, _numbers
    ),
    _Rule(re.compile(r"\?"), DAY_FIELDS, _no_specific_value),
    _Rule(
        re.compile(r"L(?:-(?P<offset>[0-9]+))?(?P<weekday>W)?"), (DAY_OF_MONTH,), _last_day_of_month
    ),
    _Rule(re.compile(r"(?P<day>[0-9]+)W"), (DAY_OF_MONTH,), _nearest_weekday),
    _Rule(re.compile(r"L"), (DAY_OF_WEEK,), _saturday),
    _Rule(re.compile(_DAY + r"L"), (DAY_OF_WEEK,), _last_weekday),
    _Rule(re.compile(_DAY + r"#(?P<nth>.*)"), (DAY_OF_WEEK,), _nth_weekday),
    _Rule(re.compile(r"(?P<start>[A-Z]{3})(?:-(?P<end>[A-Z]{3}))?"), (MONTH, DAY_OF_WEEK), _names),
    # Quartz reads a step after a single name as nothing ('JAN/3' is January alone); Epoch
    # accepts the form, as its reference cases do, and fires as Quartz does.
    _Rule(re.compile(r"(?P<start>[A-Z]{3})(?P<end>)/[0-9]+"), (MONTH, DAY_OF_WEEK), _names),
)


def _diagnose(spec: FieldSpec, element: str) -> str:
    """Why no rule matched ``element``, in words."""
    if not element:
        return "empty value (two commas in a row, or a comma at either end)"
    for pattern, allowed_in, problem in _MISPLACED:
        if spec not in allowed_in and re.fullmatch(pattern, element):
            return problem
    if re.fullmatch(r"[0-9]+-[0-9]+(?:/[0-9]+)?[LW].*", element):
        return f"'L' and 'W' cannot follow a range in '{element}'"
    if re.fullmatch(r"[A-Z]{3}.*", element) and element[:3] not in _names_of(spec):
        return f"'{element[:3]}' is not a {'month' if spec is MONTH else 'day'} name"
    return _trailing_text(spec, element)


_MISPLACED: tuple[tuple[str, tuple[FieldSpec, ...], str], ...] = (
    (r"L-.*", (DAY_OF_MONTH,), "'L-n' is only allowed in day-of-month"),
    (r"L.*", DAY_FIELDS, "'L' is only allowed in day-of-month and day-of-week"),
    (
        r"[0-9]+L.*",
        (DAY_OF_WEEK,),
        "'nL' (last weekday of the month) is only allowed in day-of-week",
    ),
    (r"[0-9]+W.*", (DAY_OF_MONTH,), "'W' is only allowed in day-of-month"),
    (r"[0-9A-Z]+#.*", (DAY_OF_WEEK,), "'#' is only allowed in day-of-week"),
    (r"\?.*", DAY_FIELDS, "'?' is only allowed in day-of-month and day-of-week"),
    (r"[A-Z]{3}.*", (MONTH, DAY_OF_WEEK), "names are only allowed in month and day-of-week"),
)


def _names_of(spec: FieldSpec) -> tuple[str, ...]:
    return MONTH_NAMES if spec is MONTH else DAY_NAMES


def _trailing_text(spec: FieldSpec, element: str) -> str:
    for end in range(len(element) - 1, 0, -1):
        if any(rule.pattern.fullmatch(element[:end]) and spec in rule.fields for rule in _RULES):
            return f"unexpected text '{element[end:]}' after '{element[:end]}'"
    return f"unexpected text in '{element}'"
