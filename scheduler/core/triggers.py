"""Next fire times of triggers: Quartz cron in a time zone, or one point in time."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.core.cron import CronExpression
from topologies.domain import AtTrigger, CronTrigger, Trigger


@lru_cache(maxsize=65536)
def parsed(expression: str) -> CronExpression:
    """Parsed expressions are shared: thousands of topologies use a handful of schedules."""
    return CronExpression.parse(expression)


def next_cron_fire(expression: str, after_ms: int, zone: ZoneInfo) -> int | None:
    """The first fire strictly after ``after_ms`` (epoch ms), or None when there is none."""
    return parsed(expression).next_fire_after_ms(after_ms, zone)


def next_fire(trigger: Trigger, after_ms: int, zone: ZoneInfo) -> int | None:
    if isinstance(trigger, CronTrigger):
        return next_cron_fire(trigger.time_spec, after_ms, zone)
    assert isinstance(trigger, AtTrigger)
    return trigger.time if trigger.time > after_ms else None


def cron_problem(expression: str) -> str | None:
    """None for a valid Quartz expression, else what is wrong with it (field, place, problem)."""
    try:
        parsed(expression)
    except ValueError as error:
        return str(error)
    return None
