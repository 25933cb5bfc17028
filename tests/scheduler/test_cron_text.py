"""Descriptions of Quartz expressions read Quartz's numbering and special characters right."""

from __future__ import annotations

import pytest

from scheduler.core.cron import CronSyntaxError
from scheduler.cron_text import describe


def test_day_two_is_monday() -> None:
    assert describe("0 0 9 ? * 2") == "At 09:00 AM, only on Monday"


def test_day_one_is_sunday() -> None:
    assert describe("0 0 9 ? * 1") == "At 09:00 AM, only on Sunday"


def test_time_of_day_has_hours_and_minutes() -> None:
    assert describe("0 30 2 ? * *") == "At 02:30 AM"


def test_nth_weekday_counts_from_sunday() -> None:
    assert describe("0 0 12 ? * 1#2") == "At 12:00 PM, on the second Sunday of the month"


def test_day_names_and_ranges() -> None:
    assert describe("0 15 10 ? * mon-fri") == "At 10:15 AM, Monday through Friday"


@pytest.mark.parametrize("day", ["6L", "FRIL"])
def test_last_weekday_of_the_month(day: str) -> None:
    assert describe(f"0 0 9 ? * {day}") == "At 09:00 AM, on the last Friday of the month"


def test_lone_l_in_day_of_week_is_saturday() -> None:
    assert describe("0 0 9 ? * L") == "At 09:00 AM, only on Saturday"


@pytest.mark.parametrize(
    ("day_of_month", "words"),
    [
        ("L", "on the last day of the month"),
        ("LW", "on the last weekday of the month"),
        ("L-3", "3 days before the last day of the month"),
        ("15W", "on the weekday nearest day 15 of the month"),
    ],
)
def test_day_of_month_specials(day_of_month: str, words: str) -> None:
    assert describe(f"0 0 9 {day_of_month} * ?") == f"At 09:00 AM, {words}"


def test_seconds_and_steps() -> None:
    assert describe("*/15 * * ? * *") == "Every 15 seconds"
    assert describe("0 */15 * * * ?") == "Every 15 minutes"


def test_year_field() -> None:
    assert describe("0 0 0 1 1 ? 2030") == (
        "At 12:00 AM, on day 1 of the month, only in January, only in 2030"
    )


def test_step_after_a_single_month_name_is_described_as_quartz_reads_it() -> None:
    assert describe("0 0 9 ? JAN/3 *") == "At 09:00 AM, only in January"


def test_ninety_nine_is_described_as_every_value() -> None:
    assert describe("0 99 * ? * *") == "Every minute"


def test_invalid_expression_raises_the_parser_error() -> None:
    with pytest.raises(CronSyntaxError, match=r"^day-of-week: '8' is out of range 1-7"):
        describe("0 0 9 ? * 8")
