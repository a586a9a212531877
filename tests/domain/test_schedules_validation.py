"""Refused schedule params, round-trips through to_dict, descriptions and the type catalogue."""

from datetime import datetime, timezone

import pytest

from domain.errors import InvalidCronExpression, ValidationFailed
from domain.schedules import SCHEDULE_TYPES, parse_schedule

ANCHOR = datetime(2025, 3, 12, 15, 0, tzinfo=timezone.utc)

BAD = [
    ("unknown-type", "hourly", {}, ValidationFailed, "type"),
    ("unknown-key", "daily", {"time": "01:00", "colour": "red"}, ValidationFailed, "schedule.colour"),
    ("bad-time", "daily", {"time": "25:00"}, ValidationFailed, "schedule.time"),
    ("bad-time-shape", "daily", {"time": "1:00"}, ValidationFailed, "schedule.time"),
    ("bad-zone", "daily", {"time": "01:00", "timezone": "Mars/Base"}, ValidationFailed, "schedule.timezone"),
    ("interval-zero", "interval", {"interval_seconds": 0}, ValidationFailed, "schedule.interval_seconds"),
    ("interval-string", "interval", {"interval_seconds": "10"}, ValidationFailed, "schedule.interval_seconds"),
    ("interval-bool", "interval", {"interval_seconds": True}, ValidationFailed, "schedule.interval_seconds"),
    ("interval-too-long", "interval", {"interval_seconds": 366 * 86400 + 1}, ValidationFailed,
     "schedule.interval_seconds"),
    ("jitter-60", "interval", {"interval_seconds": 10, "jitter_percentage": 60}, ValidationFailed,
     "schedule.jitter_percentage"),
    ("skip-weekends-not-bool", "daily", {"time": "01:00", "skip_weekends": "yes"}, ValidationFailed,
     "schedule.skip_weekends"),
    ("weekly-no-days", "weekly", {"days": [], "time": "08:00"}, ValidationFailed, "schedule.days"),
    ("weekly-full-name", "weekly", {"days": ["Monday"], "time": "08:00"}, ValidationFailed, "schedule.days"),
    ("weekly-repeated-day", "weekly", {"days": ["mon", "mon"], "time": "08:00"}, ValidationFailed, "schedule.days"),
    ("monthly-32", "monthly", {"day": 32, "time": "08:00"}, ValidationFailed, "schedule.day"),
    ("monthly-first", "monthly", {"day": "first", "time": "08:00"}, ValidationFailed, "schedule.day"),
    ("cron-minute-61", "cron", {"cron_expression": "61 * * * *"}, InvalidCronExpression, "schedule.cron_expression"),
    ("cron-four-fields", "cron", {"cron_expression": "* * * *"}, InvalidCronExpression, "schedule.cron_expression"),
    ("cron-seven-fields", "cron", {"cron_expression": "0 0 0 * * * 2030"}, InvalidCronExpression,
     "schedule.cron_expression"),
    ("cron-never-fires", "cron", {"cron_expression": "0 0 30 2 *"}, InvalidCronExpression,
     "schedule.cron_expression"),
    ("sunrise-no-location", "sunrise", {"event": "sunset"}, ValidationFailed, "schedule.latitude"),
    ("sunrise-bad-event", "sunrise", {"event": "noon", "latitude": 1, "longitude": 2}, ValidationFailed,
     "schedule.event"),
    ("sunrise-offset-too-big", "sunrise", {"offset_minutes": 721, "latitude": 1, "longitude": 2}, ValidationFailed,
     "schedule.offset_minutes"),
    ("sunrise-latitude-out-of-range", "sunrise", {"latitude": 91, "longitude": 2}, ValidationFailed,
     "schedule.latitude"),
    ("once-naive", "once", {"at": "2025-03-12T15:00:00"}, ValidationFailed, "schedule.at"),
    ("end-before-start", "daily", {"time": "01:00", "start_at": "2025-03-12T00:00:00Z",
                                   "end_at": "2025-03-11T00:00:00Z"}, ValidationFailed, "schedule.end_at"),
]


@pytest.mark.parametrize(("kind", "params", "error", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_params_are_refused_with_the_right_error(kind, params, error, field):
    with pytest.raises(error) as caught:
        parse_schedule(kind, params, anchor=ANCHOR)
    assert type(caught.value) is error
    assert caught.value.details["field"] == field


def test_invalid_cron_carries_croniters_reason():
    with pytest.raises(InvalidCronExpression) as caught:
        parse_schedule("cron", {"cron_expression": "61 * * * *"}, anchor=ANCHOR)
    assert caught.value.code == "INVALID_CRON_EXPRESSION"
    assert "out of range" in caught.value.message
    assert "out of range" in caught.value.details["reason"]


def test_unknown_key_is_named_in_the_message():
    with pytest.raises(ValidationFailed, match="colour"):
        parse_schedule("daily", {"time": "01:00", "colour": "red"}, anchor=ANCHOR)


def test_naive_anchor_and_naive_t_are_refused():
    with pytest.raises(ValidationFailed):
        parse_schedule("interval", {"interval_seconds": 10}, anchor=datetime(2025, 1, 1))
    schedule = parse_schedule("interval", {"interval_seconds": 10}, anchor=ANCHOR)
    with pytest.raises(ValidationFailed):
        schedule.next_after(datetime(2025, 1, 1))


def test_type_and_next_execution_keys_are_ignored():
    schedule = parse_schedule(
        "interval", {"type": "interval", "interval_seconds": 10, "next_execution": "2025-03-12T15:10:30Z"},
        anchor=ANCHOR,
    )
    assert schedule.to_dict() == {"interval_seconds": 10, "jitter_percentage": 0}


ROUND_TRIPS = [
    ("interval", {"interval_seconds": 10}),
    ("interval", {"interval_seconds": 90, "jitter_percentage": 12.5, "start_at": "2025-03-12T16:00:00+01:00"}),
    ("daily", {"time": "01:00", "timezone": "UTC", "skip_weekends": True}),
    ("daily", {"time": "01:00:30", "end_at": "2026-01-01T00:00:00Z"}),
    ("weekly", {"days": ["fri", "mon"], "time": "08:30", "timezone": "Europe/Berlin"}),
    ("monthly", {"day": "last", "time": "23:00"}),
    ("monthly", {"day": 31, "time": "23:00", "timezone": "Asia/Kolkata"}),
    ("cron", {"cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York"}),
    ("cron", {"cron_expression": "*/10 * * * * *"}),
    ("sunrise", {"event": "sunset", "offset_minutes": 30, "latitude": 52.52, "longitude": 13.4}),
    ("once", {"at": "2025-03-12T15:00:00Z"}),
]


@pytest.mark.parametrize(("kind", "params"), ROUND_TRIPS)
def test_to_dict_round_trips_through_parse(kind, params):
    schedule = parse_schedule(kind, params, anchor=ANCHOR)
    again = parse_schedule(kind, schedule.to_dict(), anchor=ANCHOR)
    assert again == schedule
    assert again.to_dict() == schedule.to_dict()
    assert schedule.type == kind


def test_default_location_is_used_and_frozen_into_to_dict():
    schedule = parse_schedule("sunrise", {}, anchor=ANCHOR, default_location=(52.52, 13.4))
    assert schedule.to_dict()["latitude"] == 52.52
    assert parse_schedule("sunrise", schedule.to_dict(), anchor=ANCHOR) == schedule


DESCRIPTIONS = [
    ("interval", {"interval_seconds": 10}, "Every 10 seconds"),
    ("interval", {"interval_seconds": 3600}, "Every hour"),
    ("daily", {"time": "01:00", "skip_weekends": True}, "Every day at 01:00 (UTC), skipping weekends"),
    ("weekly", {"days": ["fri", "mon"], "time": "08:30", "timezone": "Europe/Berlin"},
     "Every Monday and Friday at 08:30 (Europe/Berlin)"),
    ("monthly", {"day": "last", "time": "23:00"}, "On the last day of every month at 23:00 (UTC)"),
    ("sunrise", {"event": "sunset", "offset_minutes": 30, "latitude": 52.52, "longitude": 13.4},
     "30 minutes after sunset at 52.52, 13.40"),
    ("once", {"at": "2025-03-12T15:00:00Z"}, "Once at 2025-03-12T15:00:00Z"),
    ("cron", {"cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York"},
     "At 0 minutes past the hour, between 09:00 AM and 05:59 PM, Monday through Friday (America/New_York)"),
    ("cron", {"cron_expression": "*/15 * * * *"}, "Every 15 minutes"),
]


@pytest.mark.parametrize(("kind", "params", "text"), DESCRIPTIONS)
def test_description_is_plain_english(kind, params, text):
    assert parse_schedule(kind, params, anchor=ANCHOR).describe() == text


def test_catalogue_lists_every_type_with_contract_descriptions():
    assert set(SCHEDULE_TYPES) == {"interval", "daily", "weekly", "monthly", "cron", "sunrise", "once"}
    assert SCHEDULE_TYPES["interval"]["description"] == "Execute at fixed time intervals"
    assert SCHEDULE_TYPES["daily"]["description"] == "Execute once per day at specific time"
    assert SCHEDULE_TYPES["cron"]["description"] == "Execute based on cron expression"
    assert SCHEDULE_TYPES["interval"]["parameters"] == ["interval_seconds", "jitter_percentage", "start_at", "end_at"]
    assert SCHEDULE_TYPES["daily"]["parameters"][:3] == ["time", "timezone", "skip_weekends"]
