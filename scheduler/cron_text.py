"""Human-readable descriptions of Quartz cron expressions ("At 09:00 AM, only on Monday").

Wording comes from cron-descriptor, told that day-of-week counts from 1 = Sunday as in Quartz.
Before it sees an expression, the few forms Quartz reads in its own way are rewritten to what
Quartz does with them, so the description matches the fire times: a lone ``L`` in day-of-week is
Saturday, a step after a single name is dropped (``JAN/3`` is January), and a literal 99 means
every value.
"""

from __future__ import annotations

import re

from cron_descriptor import ExpressionDescriptor, Options

from scheduler.core.cron import CronExpression

# US English with Quartz's day numbering; a fixed locale keeps descriptions the same on every node.
_OPTIONS = Options(locale_code="en_US", day_of_week_start_index_zero=False)
_MONTH, _DAY_OF_WEEK = 4, 5


def describe(expression: str) -> str:
    """Describe a valid expression in words; raise ``CronSyntaxError`` if Epoch rejects it.

    cron-descriptor does not read every expression Quartz accepts; for those the expression
    itself is returned.
    """
    CronExpression.parse(expression)
    try:
        return str(
            ExpressionDescriptor(_as_quartz_reads_it(expression), _OPTIONS).get_description()
        )
    except Exception:  # cron-descriptor raises assorted types for forms it does not know
        return " ".join(expression.split())


def _as_quartz_reads_it(expression: str) -> str:
    fields = expression.upper().split()
    if len(fields) == 6:
        fields.append("*")  # seven fields, so cron-descriptor never takes the first for minutes
    for index, text in enumerate(fields):
        fields[index] = ",".join(_element(index, element) for element in text.split(","))
    return " ".join(fields)


def _element(field_index: int, element: str) -> str:
    if element == "99":
        return "*"
    if field_index == _DAY_OF_WEEK and element == "L":
        return "7"
    if field_index in (_MONTH, _DAY_OF_WEEK):
        return re.sub(r"^([A-Z]{3})/[0-9]+$", r"\1", element)
    return element
