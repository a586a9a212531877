"""DST behaviour of daily, weekly, monthly and cron schedules, with hand-written UTC instants."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.schedules import parse_schedule

ANCHOR = datetime(2025, 1, 1, tzinfo=timezone.utc)
NY, BERLIN, LORD_HOWE, KOLKATA = "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


CASES = [
    # (id, type, params, after, expected UTC instants)
    # America/New_York: EST -5 / EDT -4; 2025-03-09 02:00 -> 03:00, 2025-11-02 02:00 -> 01:00
    ("ny-daily-gap", "daily", {"time": "02:30", "timezone": NY}, "2025-03-08T12:00:00Z",
     ["2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"]),
    ("ny-daily-after-gap-same-instant", "daily", {"time": "03:00", "timezone": NY}, "2025-03-08T12:00:00Z",
     ["2025-03-09T07:00:00Z", "2025-03-10T07:00:00Z"]),
    ("ny-daily-repeat", "daily", {"time": "01:30", "timezone": NY}, "2025-11-01T12:00:00Z",
     ["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"]),
    ("ny-daily-repeat-from-second-pass", "daily", {"time": "01:30", "timezone": NY}, "2025-11-02T06:10:00Z",
     ["2025-11-03T06:30:00Z"]),
    ("ny-weekly-gap", "weekly", {"days": ["sun"], "time": "02:30", "timezone": NY}, "2025-03-01T12:00:00Z",
     ["2025-03-02T07:30:00Z", "2025-03-09T07:00:00Z", "2025-03-16T06:30:00Z"]),
    ("ny-weekly-repeat", "weekly", {"days": ["sun"], "time": "01:30", "timezone": NY}, "2025-10-30T00:00:00Z",
     ["2025-11-02T05:30:00Z", "2025-11-09T06:30:00Z"]),
    ("ny-monthly-gap", "monthly", {"day": 9, "time": "02:30", "timezone": NY}, "2025-03-01T00:00:00Z",
     ["2025-03-09T07:00:00Z", "2025-04-09T06:30:00Z"]),
    ("ny-monthly-repeat", "monthly", {"day": 2, "time": "01:30", "timezone": NY}, "2025-10-15T00:00:00Z",
     ["2025-11-02T05:30:00Z", "2025-12-02T06:30:00Z"]),
    ("ny-cron-fixed-gap", "cron", {"cron_expression": "30 2 * * *", "timezone": NY}, "2025-03-08T12:00:00Z",
     ["2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"]),
    ("ny-cron-fixed-gap-two-times-fire-once", "cron", {"cron_expression": "0,30 2 * * *", "timezone": NY},
     "2025-03-08T12:00:00Z", ["2025-03-09T07:00:00Z", "2025-03-10T06:00:00Z"]),
    ("ny-cron-fixed-repeat", "cron", {"cron_expression": "30 1 * * *", "timezone": NY}, "2025-11-01T12:00:00Z",
     ["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"]),
    ("ny-cron-15min-spring", "cron", {"cron_expression": "*/15 * * * *", "timezone": NY}, "2025-03-09T06:30:00Z",
     ["2025-03-09T06:45:00Z", "2025-03-09T07:00:00Z", "2025-03-09T07:15:00Z"]),
    ("ny-cron-15min-fall-both-passes", "cron", {"cron_expression": "*/15 * * * *", "timezone": NY},
     "2025-11-02T05:30:00Z",
     ["2025-11-02T05:45:00Z", "2025-11-02T06:00:00Z", "2025-11-02T06:15:00Z", "2025-11-02T06:30:00Z"]),
    # Europe/Berlin: CET +1 / CEST +2; 2025-03-30 02:00 -> 03:00, 2025-10-26 03:00 -> 02:00
    ("berlin-daily-gap", "daily", {"time": "02:30", "timezone": BERLIN}, "2025-03-29T12:00:00Z",
     ["2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z"]),
    ("berlin-daily-repeat", "daily", {"time": "02:30", "timezone": BERLIN}, "2025-10-25T12:00:00Z",
     ["2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z"]),
    ("berlin-weekly-gap", "weekly", {"days": ["sun"], "time": "02:30", "timezone": BERLIN},
     "2025-03-29T12:00:00Z", ["2025-03-30T01:00:00Z", "2025-04-06T00:30:00Z"]),
    ("berlin-weekly-repeat", "weekly", {"days": ["sun"], "time": "02:30", "timezone": BERLIN},
     "2025-10-20T00:00:00Z", ["2025-10-26T00:30:00Z", "2025-11-02T01:30:00Z"]),
    ("berlin-monthly-gap", "monthly", {"day": 30, "time": "02:30", "timezone": BERLIN}, "2025-03-01T00:00:00Z",
     ["2025-03-30T01:00:00Z", "2025-04-30T00:30:00Z"]),
    ("berlin-monthly-repeat", "monthly", {"day": 26, "time": "02:30", "timezone": BERLIN},
     "2025-10-01T00:00:00Z", ["2025-10-26T00:30:00Z", "2025-11-26T01:30:00Z"]),
    ("berlin-cron-fixed-gap", "cron", {"cron_expression": "30 2 * * *", "timezone": BERLIN},
     "2025-03-29T12:00:00Z", ["2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z"]),
    ("berlin-cron-fixed-repeat", "cron", {"cron_expression": "30 2 * * *", "timezone": BERLIN},
     "2025-10-25T12:00:00Z", ["2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z"]),
    ("berlin-cron-30min-fall", "cron", {"cron_expression": "*/30 * * * *", "timezone": BERLIN},
     "2025-10-26T00:00:00Z",
     ["2025-10-26T00:30:00Z", "2025-10-26T01:00:00Z", "2025-10-26T01:30:00Z", "2025-10-26T02:00:00Z"]),
    # Australia/Lord_Howe: +10:30 / +11; 2025-04-06 02:00 -> 01:30, 2025-10-05 02:00 -> 02:30
    ("lordhowe-daily-gap", "daily", {"time": "02:15", "timezone": LORD_HOWE}, "2025-10-04T00:00:00Z",
     ["2025-10-04T15:30:00Z", "2025-10-05T15:15:00Z"]),
    ("lordhowe-daily-repeat", "daily", {"time": "01:45", "timezone": LORD_HOWE}, "2025-04-05T00:00:00Z",
     ["2025-04-05T14:45:00Z", "2025-04-06T15:15:00Z"]),
    ("lordhowe-weekly-gap", "weekly", {"days": ["sun"], "time": "02:15", "timezone": LORD_HOWE},
     "2025-10-01T00:00:00Z", ["2025-10-04T15:30:00Z", "2025-10-11T15:15:00Z"]),
    ("lordhowe-weekly-repeat", "weekly", {"days": ["sun"], "time": "01:45", "timezone": LORD_HOWE},
     "2025-04-01T00:00:00Z", ["2025-04-05T14:45:00Z", "2025-04-12T15:15:00Z"]),
    ("lordhowe-monthly-gap", "monthly", {"day": 5, "time": "02:15", "timezone": LORD_HOWE},
     "2025-10-01T00:00:00Z", ["2025-10-04T15:30:00Z", "2025-11-04T15:15:00Z"]),
    ("lordhowe-monthly-repeat", "monthly", {"day": 6, "time": "01:45", "timezone": LORD_HOWE},
     "2025-04-01T00:00:00Z", ["2025-04-05T14:45:00Z", "2025-05-05T15:15:00Z"]),
    ("lordhowe-cron-fixed-gap", "cron", {"cron_expression": "15 2 * * *", "timezone": LORD_HOWE},
     "2025-10-04T00:00:00Z", ["2025-10-04T15:30:00Z", "2025-10-05T15:15:00Z"]),
    ("lordhowe-cron-fixed-repeat", "cron", {"cron_expression": "45 1 * * *", "timezone": LORD_HOWE},
     "2025-04-05T00:00:00Z", ["2025-04-05T14:45:00Z", "2025-04-06T15:15:00Z"]),
    ("lordhowe-cron-hourly-spring", "cron", {"cron_expression": "0 * * * *", "timezone": LORD_HOWE},
     "2025-10-04T14:00:00Z", ["2025-10-04T14:30:00Z", "2025-10-04T16:00:00Z", "2025-10-04T17:00:00Z"]),
    ("lordhowe-cron-30min-fall", "cron", {"cron_expression": "*/30 * * * *", "timezone": LORD_HOWE},
     "2025-04-05T14:00:00Z",
     ["2025-04-05T14:30:00Z", "2025-04-05T15:00:00Z", "2025-04-05T15:30:00Z", "2025-04-05T16:00:00Z"]),
    # Asia/Kolkata: +05:30, no DST
    ("kolkata-daily", "daily", {"time": "09:00", "timezone": KOLKATA}, "2025-03-09T00:00:00Z",
     ["2025-03-09T03:30:00Z", "2025-03-10T03:30:00Z"]),
    ("kolkata-weekly", "weekly", {"days": ["mon", "fri"], "time": "08:30", "timezone": KOLKATA},
     "2025-03-15T00:00:00Z", ["2025-03-17T03:00:00Z", "2025-03-21T03:00:00Z"]),
    ("kolkata-monthly-last", "monthly", {"day": "last", "time": "23:00", "timezone": KOLKATA},
     "2025-02-01T00:00:00Z", ["2025-02-28T17:30:00Z", "2025-03-31T17:30:00Z"]),
    ("kolkata-cron", "cron", {"cron_expression": "0 9-17 * * 1-5", "timezone": KOLKATA}, "2025-03-15T00:00:00Z",
     ["2025-03-17T03:30:00Z", "2025-03-17T04:30:00Z"]),
    # The contract's example (its own instants are inconsistent: 2025-03-16 is a Sunday)
    ("contract-example", "cron", {"cron_expression": "0 9-17 * * 1-5", "timezone": NY}, "2025-03-15T00:00:00Z",
     ["2025-03-17T13:00:00Z", "2025-03-17T14:00:00Z"]),
    # month-end rule and seconds-first six-field cron
    ("monthly-31-short-months", "monthly", {"day": 31, "time": "12:00"}, "2024-01-31T12:00:00Z",
     ["2024-02-29T12:00:00Z", "2024-03-31T12:00:00Z", "2024-04-30T12:00:00Z"]),
    ("cron-six-fields-seconds-first", "cron", {"cron_expression": "30 0 9 * * *"}, "2025-01-01T00:00:00Z",
     ["2025-01-01T09:00:30Z", "2025-01-02T09:00:30Z"]),
]


@pytest.mark.parametrize(("kind", "params", "after", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fire_instants_follow_the_dst_policy(kind, params, after, expected):
    schedule = parse_schedule(kind, params, anchor=ANCHOR)
    fires = schedule.next_n(z(after), len(expected))
    assert fires == [z(e) for e in expected]
    assert all(f.tzinfo is timezone.utc for f in fires)


@pytest.mark.parametrize(
    ("after", "hours"),
    [("2025-03-09T05:00:00Z", 23), ("2025-11-02T04:00:00Z", 25)],
    ids=["spring-forward-day-has-23", "fall-back-day-has-25"],
)
def test_hourly_cron_fires_every_real_hour_through_transitions(after, hours):
    schedule = parse_schedule("cron", {"cron_expression": "0 * * * *", "timezone": NY}, anchor=ANCHOR)
    start = z(after)
    fires = schedule.next_n(start - timedelta(seconds=1), hours + 1)
    assert fires == [start + timedelta(hours=k) for k in range(hours + 1)]
    # the last one is local midnight of the next day
    assert fires[-1].astimezone(ZoneInfo(NY)).hour == 0
