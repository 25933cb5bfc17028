"""Quartz cron rules, one class per rule. Expected fire times were checked against Quartz 2.3.2."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.core.cron import CronExpression, CronSyntaxError

CURRENT_YEAR = 2026


def fires(expression: str, start: str, zone: str = "UTC", count: int = 3) -> list[str]:
    """The first ``count`` fire times after ``start`` (ISO 8601 with offset), shown in ``zone``."""
    cron = CronExpression.parse(expression, current_year=CURRENT_YEAR)
    times = cron.fire_times(datetime.fromisoformat(start), ZoneInfo(zone))
    return [time.isoformat() for time in itertools.islice(times, count)]


def rejection(expression: str) -> CronSyntaxError:
    with pytest.raises(CronSyntaxError) as raised:
        CronExpression.parse(expression, current_year=CURRENT_YEAR)
    return raised.value


class TestWildcardsListsAndRanges:
    def test_star_in_every_field_fires_every_second(self) -> None:
        assert fires("* * * * * ?", "2026-01-01T00:00:00.500+00:00", count=2) == [
            "2026-01-01T00:00:01+00:00",
            "2026-01-01T00:00:02+00:00",
        ]

    def test_comma_lists_each_value(self) -> None:
        assert fires("0 0 9,17 * * ?", "2026-01-01T10:00:00+00:00") == [
            "2026-01-01T17:00:00+00:00",
            "2026-01-02T09:00:00+00:00",
            "2026-01-02T17:00:00+00:00",
        ]

    def test_dash_covers_a_range(self) -> None:
        times = fires("0 0-5 14 * * ?", "2026-01-01T14:03:30+00:00")
        assert times == [
            "2026-01-01T14:04:00+00:00",
            "2026-01-01T14:05:00+00:00",
            "2026-01-02T14:00:00+00:00",
        ]

    def test_question_mark_leaves_the_other_day_field_in_charge(self) -> None:
        assert fires("0 0 12 ? * MON", "2026-01-01T00:00:00+00:00", count=2) == [
            "2026-01-05T12:00:00+00:00",
            "2026-01-12T12:00:00+00:00",
        ]
        assert fires("0 0 12 15 * ?", "2026-01-01T00:00:00+00:00", count=2) == [
            "2026-01-15T12:00:00+00:00",
            "2026-02-15T12:00:00+00:00",
        ]


class TestSteps:
    def test_step_from_zero_restarts_each_minute(self) -> None:
        assert fires("0/7 * * * * ?", "2026-01-01T00:00:50+00:00") == [
            "2026-01-01T00:00:56+00:00",
            "2026-01-01T00:01:00+00:00",
            "2026-01-01T00:01:07+00:00",
        ]

    def test_step_larger_than_half_the_field_gives_two_values(self) -> None:
        assert fires("5/40 * * * * ?", "2026-01-01T00:00:00+00:00", count=4) == [
            "2026-01-01T00:00:05+00:00",
            "2026-01-01T00:00:45+00:00",
            "2026-01-01T00:01:05+00:00",
            "2026-01-01T00:01:45+00:00",
        ]

    def test_star_step_counts_from_the_start_of_the_field(self) -> None:
        assert fires("0 */15 * * * ?", "2026-01-01T00:07:00+00:00") == [
            "2026-01-01T00:15:00+00:00",
            "2026-01-01T00:30:00+00:00",
            "2026-01-01T00:45:00+00:00",
        ]

    def test_stepped_range_stops_at_its_end(self) -> None:
        assert fires("0 0 9-20/3 ? * *", "2026-01-01T00:00:00+00:00", count=5) == [
            "2026-01-01T09:00:00+00:00",
            "2026-01-01T12:00:00+00:00",
            "2026-01-01T15:00:00+00:00",
            "2026-01-01T18:00:00+00:00",
            "2026-01-02T09:00:00+00:00",
        ]


class TestNames:
    def test_day_names_in_any_case(self) -> None:
        assert fires("0 0 9 ? * Mon-fRi", "2026-01-02T00:00:00+00:00") == [
            "2026-01-02T09:00:00+00:00",
            "2026-01-05T09:00:00+00:00",
            "2026-01-06T09:00:00+00:00",
        ]

    def test_month_names_in_a_list(self) -> None:
        assert fires("0 0 9 1 jan,Apr,JUL,oct ?", "2026-02-01T00:00:00+00:00") == [
            "2026-04-01T09:00:00+00:00",
            "2026-07-01T09:00:00+00:00",
            "2026-10-01T09:00:00+00:00",
        ]

    def test_day_of_week_one_is_sunday(self) -> None:
        assert fires("0 0 9 ? * 1", "2026-01-01T00:00:00+00:00", count=1) == [
            "2026-01-04T09:00:00+00:00"
        ]

    def test_step_after_a_single_name_is_read_as_quartz_reads_it(self) -> None:
        # Quartz ignores '/3' after a single name: January only, not every third month.
        assert fires("0 0 9 ? JAN/3 *", "2026-03-01T00:00:00+00:00", count=2) == [
            "2027-01-01T09:00:00+00:00",
            "2027-01-02T09:00:00+00:00",
        ]


class TestWrappingRanges:
    def test_hours_wrap_past_midnight(self) -> None:
        assert fires("0 0 22-2 * * ?", "2026-01-01T21:00:00+00:00", count=6) == [
            "2026-01-01T22:00:00+00:00",
            "2026-01-01T23:00:00+00:00",
            "2026-01-02T00:00:00+00:00",
            "2026-01-02T01:00:00+00:00",
            "2026-01-02T02:00:00+00:00",
            "2026-01-02T22:00:00+00:00",
        ]

    def test_days_of_week_wrap_past_saturday(self) -> None:
        assert fires("0 0 9 ? * FRI-MON", "2026-01-01T00:00:00+00:00", count=5) == [
            "2026-01-02T09:00:00+00:00",
            "2026-01-03T09:00:00+00:00",
            "2026-01-04T09:00:00+00:00",
            "2026-01-05T09:00:00+00:00",
            "2026-01-09T09:00:00+00:00",
        ]

    def test_months_wrap_past_december(self) -> None:
        assert fires("0 0 9 1 NOV-FEB ?", "2026-01-15T00:00:00+00:00", count=5) == [
            "2026-02-01T09:00:00+00:00",
            "2026-11-01T09:00:00+00:00",
            "2026-12-01T09:00:00+00:00",
            "2027-01-01T09:00:00+00:00",
            "2027-02-01T09:00:00+00:00",
        ]

    def test_days_of_month_wrap_past_the_31st(self) -> None:
        assert fires("0 0 0 28-3 * ?", "2026-02-26T00:00:00+00:00", count=6) == [
            "2026-02-28T00:00:00+00:00",
            "2026-03-01T00:00:00+00:00",
            "2026-03-02T00:00:00+00:00",
            "2026-03-03T00:00:00+00:00",
            "2026-03-28T00:00:00+00:00",
            "2026-03-29T00:00:00+00:00",
        ]


class TestYearField:
    def test_year_step(self) -> None:
        assert fires("0 0 0 1 1 ? 2026/2", "2026-06-01T00:00:00+00:00") == [
            "2028-01-01T00:00:00+00:00",
            "2030-01-01T00:00:00+00:00",
            "2032-01-01T00:00:00+00:00",
        ]

    def test_past_year_never_fires(self) -> None:
        assert fires("0 0 0 1 1 ? 2024", "2026-06-01T00:00:00+00:00") == []

    def test_year_range_ends_the_fire_times(self) -> None:
        assert fires("0 0 0 1 1 ? 2027-2028", "2026-06-01T00:00:00+00:00") == [
            "2027-01-01T00:00:00+00:00",
            "2028-01-01T00:00:00+00:00",
        ]

    def test_any_year_ends_a_hundred_years_after_the_current_year(self) -> None:
        start = datetime(2126, 12, 30, tzinfo=UTC)
        this_year = CronExpression.parse("0 0 0 ? * *", current_year=2026)
        next_year = CronExpression.parse("0 0 0 ? * *", current_year=2027)
        assert [t.day for t in this_year.fire_times(start, ZoneInfo("UTC"))] == [31]
        assert next_year.next_fire_after(datetime(2126, 12, 31, tzinfo=UTC), ZoneInfo("UTC")) == (
            datetime(2127, 1, 1, tzinfo=ZoneInfo("UTC"))
        )


class TestLastDayOfMonth:
    def test_last_day_in_a_common_year(self) -> None:
        assert fires("0 0 9 L * ?", "2027-01-15T00:00:00+00:00") == [
            "2027-01-31T09:00:00+00:00",
            "2027-02-28T09:00:00+00:00",
            "2027-03-31T09:00:00+00:00",
        ]

    def test_last_day_in_a_leap_year(self) -> None:
        assert fires("0 0 9 L * ?", "2028-01-15T00:00:00+00:00")[1] == "2028-02-29T09:00:00+00:00"

    def test_days_before_the_last(self) -> None:
        assert fires("0 0 9 L-2 * ?", "2027-01-30T00:00:00+00:00") == [
            "2027-02-26T09:00:00+00:00",
            "2027-03-29T09:00:00+00:00",
            "2027-04-28T09:00:00+00:00",
        ]

    def test_last_weekday(self) -> None:
        # 31 May 2026 is a Sunday, 30 June a Tuesday.
        assert fires("0 0 9 LW * ?", "2026-05-01T00:00:00+00:00") == [
            "2026-05-29T09:00:00+00:00",
            "2026-06-30T09:00:00+00:00",
            "2026-07-31T09:00:00+00:00",
        ]

    def test_weekday_nearest_to_days_before_the_last(self) -> None:
        # L-3 is 28 May (Thursday), 27 June (Saturday: Friday 26th), 28 July (Tuesday).
        assert fires("0 0 9 L-3W * ?", "2026-05-01T00:00:00+00:00") == [
            "2026-05-28T09:00:00+00:00",
            "2026-06-26T09:00:00+00:00",
            "2026-07-28T09:00:00+00:00",
        ]


class TestNearestWeekday:
    def test_saturday_the_first_moves_forward_to_monday(self) -> None:
        assert fires("0 0 9 1W * ?", "2026-07-15T00:00:00+00:00")[0] == "2026-08-03T09:00:00+00:00"

    def test_saturday_moves_back_to_friday(self) -> None:
        assert fires("0 0 9 15W * ?", "2026-08-01T00:00:00+00:00")[0] == "2026-08-14T09:00:00+00:00"

    def test_sunday_the_last_day_moves_back_to_friday(self) -> None:
        assert fires("0 0 9 31W * ?", "2026-04-01T00:00:00+00:00", count=4) == [
            "2026-05-29T09:00:00+00:00",
            "2026-07-31T09:00:00+00:00",
            "2026-08-31T09:00:00+00:00",
            "2026-10-30T09:00:00+00:00",
        ]

    def test_31w_fires_on_the_30th_when_the_next_month_starts_on_saturday(self) -> None:
        # Quartz reads 31 April as 1 May (a Saturday in 2027) and moves back a day.
        assert fires("0 0 9 31W * ?", "2027-04-01T00:00:00+00:00", count=1) == [
            "2027-04-30T09:00:00+00:00"
        ]

    def test_30w_in_february_fires_on_leap_day_before_a_saturday(self) -> None:
        assert fires("0 0 9 30W 2 ?", "2029-01-01T00:00:00+00:00", count=2) == [
            "2036-02-29T09:00:00+00:00",
            "2064-02-29T09:00:00+00:00",
        ]

    def test_w_applies_to_the_smallest_listed_day(self) -> None:
        # Quartz keeps one W day: '15W,3' behaves as '3W' (3 January 2026 is a Saturday).
        assert fires("0 0 0 15W,3 * ?", "2026-01-01T00:00:00+00:00", count=2) == [
            "2026-01-02T00:00:00+00:00",
            "2026-02-03T00:00:00+00:00",
        ]


class TestNthAndLastWeekday:
    def test_third_friday(self) -> None:
        assert fires("0 0 9 ? * 6#3", "2026-01-01T00:00:00+00:00") == [
            "2026-01-16T09:00:00+00:00",
            "2026-02-20T09:00:00+00:00",
            "2026-03-20T09:00:00+00:00",
        ]

    def test_fifth_friday_skips_months_without_one(self) -> None:
        assert fires("0 0 9 ? * 6#5", "2026-01-01T00:00:00+00:00") == [
            "2026-01-30T09:00:00+00:00",
            "2026-05-29T09:00:00+00:00",
            "2026-07-31T09:00:00+00:00",
        ]

    def test_first_monday(self) -> None:
        assert fires("0 0 9 ? * 2#1", "2026-01-01T00:00:00+00:00") == [
            "2026-01-05T09:00:00+00:00",
            "2026-02-02T09:00:00+00:00",
            "2026-03-02T09:00:00+00:00",
        ]

    def test_second_sunday(self) -> None:
        assert fires("0 0 12 ? * 1#2", "2026-01-01T00:00:00+00:00", count=2) == [
            "2026-01-11T12:00:00+00:00",
            "2026-02-08T12:00:00+00:00",
        ]

    @pytest.mark.parametrize("day", ["6L", "friL", "FRIL"])
    def test_last_friday(self, day: str) -> None:
        assert fires(f"0 0 9 ? * {day}", "2026-01-01T00:00:00+00:00") == [
            "2026-01-30T09:00:00+00:00",
            "2026-02-27T09:00:00+00:00",
            "2026-03-27T09:00:00+00:00",
        ]

    def test_l_alone_in_day_of_week_means_every_saturday(self) -> None:
        assert fires("0 0 9 ? * L", "2026-01-01T00:00:00+00:00") == [
            "2026-01-03T09:00:00+00:00",
            "2026-01-10T09:00:00+00:00",
            "2026-01-17T09:00:00+00:00",
        ]


class TestLeapDay:
    def test_29_february_fires_only_in_leap_years(self) -> None:
        assert fires("0 0 0 29 2 ?", "2026-01-01T00:00:00+00:00") == [
            "2028-02-29T00:00:00+00:00",
            "2032-02-29T00:00:00+00:00",
            "2036-02-29T00:00:00+00:00",
        ]

    def test_2100_is_not_a_leap_year(self) -> None:
        assert fires("0 0 0 29 2 ? 2097-2105", "2026-01-01T00:00:00+00:00") == [
            "2104-02-29T00:00:00+00:00"
        ]

    def test_a_day_no_month_has_never_fires(self) -> None:
        assert fires("0 0 0 30 2 ?", "2026-01-01T00:00:00+00:00") == []


class TestSpringForward:
    def test_new_york_time_in_the_missing_hour_is_skipped_not_moved(self) -> None:
        assert fires("0 30 2 * * ?", "2026-03-07T12:00:00-05:00", "America/New_York") == [
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00",
            "2026-03-11T02:30:00-04:00",
        ]

    def test_new_york_hourly_has_no_fire_in_the_missing_hour(self) -> None:
        assert fires("0 0 * * * ?", "2026-03-08T00:30:00-05:00", "America/New_York") == [
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00",
        ]

    def test_london_time_in_the_missing_hour_is_skipped(self) -> None:
        assert fires("0 30 1 * * ?", "2026-03-28T12:00:00+00:00", "Europe/London", 2) == [
            "2026-03-30T01:30:00+01:00",
            "2026-03-31T01:30:00+01:00",
        ]

    def test_sydney_time_in_the_missing_hour_is_skipped(self) -> None:
        assert fires("0 30 2 * * ?", "2026-10-03T12:00:00+10:00", "Australia/Sydney", 2) == [
            "2026-10-05T02:30:00+11:00",
            "2026-10-06T02:30:00+11:00",
        ]

    def test_lord_howe_time_in_the_missing_half_hour_is_skipped(self) -> None:
        assert fires("0 15 2 * * ?", "2026-10-03T12:00:00+10:30", "Australia/Lord_Howe", 2) == [
            "2026-10-05T02:15:00+11:00",
            "2026-10-06T02:15:00+11:00",
        ]

    def test_lord_howe_time_just_after_the_half_hour_gap_fires(self) -> None:
        assert fires("0 45 2 * * ?", "2026-10-03T12:00:00+10:30", "Australia/Lord_Howe", 1) == [
            "2026-10-04T02:45:00+11:00"
        ]

    def test_lord_howe_gap_pushes_the_search_past_later_minutes(self) -> None:
        # Quartz reads 02:20 (skipped) as 02:50, so 02:35, which exists, is passed over too.
        zone = "Australia/Lord_Howe"
        assert fires("0 20,35 * * * ?", "2026-10-04T01:45:00+10:30", zone) == [
            "2026-10-04T03:20:00+11:00",
            "2026-10-04T03:35:00+11:00",
            "2026-10-04T04:20:00+11:00",
        ]


class TestFallBack:
    def test_new_york_fall_back_fires_once_at_second_occurrence(self) -> None:
        assert fires("0 30 1 * * ?", "2026-10-31T12:00:00-04:00", "America/New_York") == [
            "2026-11-01T01:30:00-05:00",
            "2026-11-02T01:30:00-05:00",
            "2026-11-03T01:30:00-05:00",
        ]

    def test_new_york_hourly_skips_the_first_occurrence(self) -> None:
        assert fires("0 0 * * * ?", "2026-11-01T00:30:00-04:00", "America/New_York") == [
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T03:00:00-05:00",
        ]

    def test_new_york_half_hourly_skips_the_first_occurrence(self) -> None:
        zone = "America/New_York"
        assert fires("0 0/30 * * * ?", "2026-11-01T00:45:00-04:00", zone, 4) == [
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T02:30:00-05:00",
        ]

    @pytest.mark.parametrize("offset", ["-04:00", "-05:00"])
    def test_start_in_either_occurrence_continues_in_the_second(self, offset: str) -> None:
        start = f"2026-11-01T01:10:00{offset}"
        assert fires("0 * * * * ?", start, "America/New_York", 2) == [
            "2026-11-01T01:11:00-05:00",
            "2026-11-01T01:12:00-05:00",
        ]

    def test_london_fall_back_fires_once_at_second_occurrence(self) -> None:
        assert fires("0 30 1 * * ?", "2026-10-24T12:00:00+01:00", "Europe/London", 2) == [
            "2026-10-25T01:30:00+00:00",
            "2026-10-26T01:30:00+00:00",
        ]

    def test_london_half_hourly_skips_the_first_occurrence(self) -> None:
        assert fires("0 0/30 * * * ?", "2026-10-25T00:15:00+01:00", "Europe/London", 4) == [
            "2026-10-25T00:30:00+01:00",
            "2026-10-25T01:00:00+00:00",
            "2026-10-25T01:30:00+00:00",
            "2026-10-25T02:00:00+00:00",
        ]

    def test_sydney_fall_back_fires_once_at_second_occurrence(self) -> None:
        assert fires("0 30 2 * * ?", "2026-04-04T12:00:00+11:00", "Australia/Sydney", 2) == [
            "2026-04-05T02:30:00+10:00",
            "2026-04-06T02:30:00+10:00",
        ]

    def test_lord_howe_half_hour_fall_back_fires_once_at_second_occurrence(self) -> None:
        assert fires("0 45 1 * * ?", "2026-04-04T12:00:00+11:00", "Australia/Lord_Howe", 2) == [
            "2026-04-05T01:45:00+10:30",
            "2026-04-06T01:45:00+10:30",
        ]

    def test_lord_howe_quarter_hourly_skips_the_first_occurrence(self) -> None:
        zone = "Australia/Lord_Howe"
        assert fires("0 0/15 * * * ?", "2026-04-05T01:20:00+11:00", zone, 4) == [
            "2026-04-05T01:30:00+10:30",
            "2026-04-05T01:45:00+10:30",
            "2026-04-05T02:00:00+10:30",
            "2026-04-05T02:15:00+10:30",
        ]


class TestZonesWithoutDaylightSaving:
    def test_kathmandu_fires_on_its_quarter_hour_offset(self) -> None:
        assert fires("0 0 12 * * ?", "2026-06-01T00:00:00+05:45", "Asia/Kathmandu", 2) == [
            "2026-06-01T12:00:00+05:45",
            "2026-06-02T12:00:00+05:45",
        ]

    def test_kolkata_fire_time_in_utc(self) -> None:
        cron = CronExpression.parse("0 0 9 * * ?", current_year=CURRENT_YEAR)
        fire = cron.next_fire_after(datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("Asia/Kolkata"))
        assert fire is not None
        assert fire.astimezone(UTC) == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)


class TestMilliseconds:
    @pytest.mark.parametrize("start", ["10:00:00.100", "10:00:00.000"])
    def test_next_fire_is_the_next_whole_minute_whatever_the_milliseconds(self, start: str) -> None:
        assert fires("0 * * ? * * *", f"2026-01-01T{start}+00:00", count=1) == [
            "2026-01-01T10:01:00+00:00"
        ]

    def test_fire_time_is_strictly_after_the_start(self) -> None:
        assert fires("0 0 9 * * ?", "2026-01-01T09:00:00+00:00", count=1) == [
            "2026-01-01T09:00:00+00:00".replace("01T", "02T")
        ]

    def test_fire_times_have_no_fraction_of_a_second(self) -> None:
        cron = CronExpression.parse("* * * * * ?", current_year=CURRENT_YEAR)
        start = datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC)
        fire = cron.next_fire_after(start, ZoneInfo("UTC"))
        assert fire == datetime(2026, 1, 1, 0, 0, 1, tzinfo=ZoneInfo("UTC"))

    def test_milliseconds_api_matches_the_datetime_api(self) -> None:
        cron = CronExpression.parse("0 15 10 ? * MON-FRI", current_year=CURRENT_YEAR)
        zone = ZoneInfo("America/New_York")
        start_ms = 1_793_512_800_123
        fire = cron.next_fire_after(datetime.fromtimestamp(start_ms / 1000, UTC), zone)
        assert fire is not None
        assert cron.next_fire_after_ms(start_ms, zone) == int(fire.timestamp()) * 1000


class TestEpochModelExamples:
    @pytest.mark.parametrize(
        "expression", ["0 * * ? * * *", "0 * * ? * *", "0 0 9-20/3 ? * *", "0 0/1 * * * ?"]
    )
    def test_valid(self, expression: str) -> None:
        assert CronExpression.parse(expression, current_year=CURRENT_YEAR).text == expression

    @pytest.mark.parametrize(
        ("expression", "field", "problem"),
        [
            ("0 * * ? *", "expression", "5 fields, expected 6 or 7"),
            ("* * * * *", "expression", "5 fields, expected 6 or 7"),
            ("", "expression", "the expression is empty"),
            ("0 0 0 * * *", "day-of-week", "exactly one of day-of-month and day-of-week"),
            ("0 0 0 ? * ?", "day-of-week", "'?' cannot be used in both day fields"),
            ("0 * * ? * * * *", "expression", "more than 7 fields (8)"),
            ("0 0 9-20/3 ? * *1", "day-of-week", "unexpected text '1' after '*'"),
        ],
    )
    def test_invalid(self, expression: str, field: str, problem: str) -> None:
        error = rejection(expression)
        assert error.field == field
        assert problem in str(error)


class TestInvalidExpressions:
    @pytest.mark.parametrize(
        ("expression", "field", "position", "message"),
        [
            ("0 0 0 ? * 8", "day-of-week", 10, "day-of-week: '8' is out of range 1-7"),
            ("0 60 * * * ?", "minute", 2, "minute: '60' is out of range 0-59"),
            ("0 0 24 * * ?", "hour", 4, "hour: '24' is out of range 0-23"),
            ("0 0 0 32 * ?", "day-of-month", 6, "day-of-month: '32' is out of range 1-31"),
            ("0 0 0 1 13 ?", "month", 8, "month: '13' is out of range 1-12"),
            (
                "0 0 9 ? * MONDAY",
                "day-of-week",
                10,
                "day-of-week: unexpected text 'DAY' after 'MON'",
            ),
            (
                "0 0 9 ? * MON-FRI/2",
                "day-of-week",
                10,
                "day-of-week: unexpected text '/2' after 'MON-FRI'",
            ),
            ("5X * * * * ?", "second", 0, "second: unexpected text 'X' after '5'"),
            ("0 0 0 ?# * MON", "day-of-month", 6, "day-of-month: unexpected text '#' after '?'"),
            ("0 0 0 1,,2 * ?", "day-of-month", 8, "day-of-month: empty value"),
            ("*/0 * * * * ?", "second", 0, "second: a step must be at least 1 in '*/0'"),
            ("5/60 * * * * ?", "second", 0, "second: step 60 is larger than 59 in '5/60'"),
            ("0 0 L * * ?", "hour", 4, "hour: 'L' is only allowed in day-of-month and day-of-week"),
            (
                "0 0 0 ? * L-2",
                "day-of-week",
                10,
                "day-of-week: 'L-n' is only allowed in day-of-month",
            ),
            (
                "0 0 0 1-5W * ?",
                "day-of-month",
                6,
                "day-of-month: 'L' and 'W' cannot follow a range",
            ),
            ("0 0 0 0W * ?", "day-of-month", 6, "day-of-month: day 0 is out of range 1-31 in '0W'"),
            ("0 0 0 ? * 6#6", "day-of-week", 10, "day-of-week: '#' must be followed by 1-5"),
            ("0 0 0 L-31 * ?", "day-of-month", 6, "day-of-month: offset 31 from the last day"),
            ("0 0 0 ? * 6L,2", "day-of-week", 10, "day-of-week: 'L' cannot be combined"),
            ("0 0 0 ? * 6#3,2#1", "day-of-week", 10, "day-of-week: only one '#' value"),
            ("0 0 0 1 1 ? 2030-2020", "year", 12, "year: start year is after end year"),
            ("0 0 9 ? FOO *", "month", 8, "month: 'FOO' is not a month name (JAN-DEC)"),
            (
                "MON 0 9 ? * *",
                "second",
                0,
                "second: names are only allowed in month and day-of-week",
            ),
            (
                "0 0 0 5#2 * ?",
                "day-of-month",
                6,
                "day-of-month: '#' is only allowed in day-of-week",
            ),
            ("? 0 0 * * ?", "second", 0, "second: '?' is only allowed in day-of-month"),
            ("0 0 12 * * ? */x", "year", 13, "year: 'X' is not a number"),
        ],
    )
    def test_rejection_names_field_position_and_problem(
        self, expression: str, field: str, position: int, message: str
    ) -> None:
        error = rejection(expression)
        assert (error.field, error.position) == (field, position)
        assert str(error).startswith(message)

    def test_error_is_a_value_error_starting_with_the_field(self) -> None:
        error = rejection("0 0 0 ? * 0")
        assert isinstance(error, ValueError)
        assert str(error) == "day-of-week: '0' is out of range 1-7"
        assert error.problem == "'0' is out of range 1-7"

    def test_position_counts_extra_blanks(self) -> None:
        assert rejection("  0   0  25 * *  ?").position == 9


class TestQuartzCompatibility:
    def test_99_is_read_as_every_value(self) -> None:
        assert fires("0 99 * ? * */2", "2026-01-01T00:00:00+00:00") == [
            "2026-01-01T00:01:00+00:00",
            "2026-01-01T00:02:00+00:00",
            "2026-01-01T00:03:00+00:00",
        ]

    def test_tabs_and_extra_blanks_separate_fields(self) -> None:
        assert fires("\t0  0\t12 * *  ?  ", "2026-01-01T00:00:00+00:00", count=1) == [
            "2026-01-01T12:00:00+00:00"
        ]

    def test_huge_year_range_is_accepted_without_storing_every_year(self) -> None:
        cron = CronExpression.parse("0 0 0 1 1 ? 2026-2147483647", current_year=CURRENT_YEAR)
        assert max(cron.fields.years) == 2999
        assert fires("0 0 0 1 1 ? 2026-2147483647", "2026-06-01T00:00:00+00:00", count=1) == [
            "2027-01-01T00:00:00+00:00"
        ]

    def test_walk_on_which_quartz_never_returns_ends_with_no_fire(self) -> None:
        # From mid-January, Quartz swings between January and 'L-30' of February for ever.
        assert fires("0 0 0 L-30W * ?", "2026-01-15T00:00:00+00:00", count=1) == []

    def test_listed_years_beyond_a_hundred_years_ahead_never_fire(self) -> None:
        # Quartz stops at the current year + 100 even when the year field lists later years.
        assert fires("0 0 0 1 1 ? 2126,2127", "2126-06-01T00:00:00+00:00") == []


class TestExpressionObject:
    def test_naive_instant_is_refused(self) -> None:
        cron = CronExpression.parse("0 0 9 * * ?", current_year=CURRENT_YEAR)
        with pytest.raises(ValueError, match="timezone-aware"):
            cron.next_fire_after(datetime(2026, 1, 1), ZoneInfo("UTC"))  # noqa: DTZ001

    def test_parsing_the_same_text_twice_gives_the_same_object(self) -> None:
        first = CronExpression.parse("0 0 9 * * ?", current_year=CURRENT_YEAR)
        assert CronExpression.parse("0 0 9 * * ?", current_year=CURRENT_YEAR) is first
        assert str(first) == "0 0 9 * * ?"

    def test_default_current_year_is_this_year(self) -> None:
        this_year = datetime.now(UTC).year
        cron = CronExpression.parse("0 0 0 1 1 ?")
        assert cron.fields.max_year == this_year + 100

    def test_fire_times_end_when_the_expression_ends(self) -> None:
        cron = CronExpression.parse("0 0 0 1 1 ? 2027-2028", current_year=CURRENT_YEAR)
        times = list(cron.fire_times(datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("UTC")))
        assert [t.year for t in times] == [2027, 2028]

    def test_no_further_fire_is_none(self) -> None:
        cron = CronExpression.parse("0 0 0 1 1 ? 2024", current_year=CURRENT_YEAR)
        assert cron.next_fire_after(datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC")) is None
        assert cron.next_fire_after_ms(1_767_225_600_000, ZoneInfo("UTC")) is None
