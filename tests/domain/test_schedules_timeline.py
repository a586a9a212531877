"""Interval, once, sunrise and start_at/end_at behaviour."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ValidationFailed
from domain.schedules import parse_schedule

UTC = timezone.utc
ANCHOR = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_interval_counts_from_anchor_excluding_it():
    s = parse_schedule("interval", {"interval_seconds": 10}, anchor=ANCHOR)
    assert s.next_n(ANCHOR - timedelta(days=1), 2) == [ANCHOR + timedelta(seconds=10), ANCHOR + timedelta(seconds=20)]
    assert s.next_after(ANCHOR + timedelta(seconds=20)) == ANCHOR + timedelta(seconds=30)
    assert s.next_after(ANCHOR + timedelta(seconds=25)) == ANCHOR + timedelta(seconds=30)


def test_interval_counts_from_start_at_including_it():
    s = parse_schedule("interval", {"interval_seconds": 60, "start_at": "2025-03-02T00:00:00Z"}, anchor=ANCHOR)
    assert s.next_n(ANCHOR, 2) == [datetime(2025, 3, 2, tzinfo=UTC), datetime(2025, 3, 2, 0, 1, tzinfo=UTC)]


def test_jitter_moves_a_fire_by_the_recorded_draw_within_its_bound():
    s = parse_schedule("interval", {"interval_seconds": 100, "jitter_percentage": 20}, anchor=ANCHOR)
    nominal = s.next_after(ANCHOR)
    assert s.jittered(nominal, 1.0) == nominal + timedelta(seconds=20)
    assert s.jittered(nominal, -0.5) == nominal - timedelta(seconds=10)
    assert s.jittered(nominal, 0) == nominal
    with pytest.raises(ValidationFailed):
        s.jittered(nominal, 1.5)


def test_end_at_stops_the_schedule_and_is_inclusive():
    s = parse_schedule(
        "daily", {"time": "12:00", "start_at": "2025-03-02T12:00:00Z", "end_at": "2025-03-04T12:00:00Z"}, anchor=ANCHOR
    )
    assert s.next_n(ANCHOR, 10) == [datetime(2025, 3, d, 12, tzinfo=UTC) for d in (2, 3, 4)]
    assert s.next_after(datetime(2025, 3, 4, 12, tzinfo=UTC)) is None


def test_once_fires_once_then_never():
    s = parse_schedule("once", {"at": "2025-03-12T16:00:00+01:00"}, anchor=ANCHOR)
    assert s.next_n(ANCHOR, 3) == [datetime(2025, 3, 12, 15, tzinfo=UTC)]
    assert s.next_after(datetime(2025, 3, 12, 15, tzinfo=UTC)) is None


def test_sunset_offset_fires_daily_near_berlin_sunset():
    s = parse_schedule(
        "sunrise", {"event": "sunset", "offset_minutes": 30, "latitude": 52.52, "longitude": 13.40}, anchor=ANCHOR
    )
    fires = s.next_n(datetime(2025, 6, 21, tzinfo=UTC), 3)
    # Berlin sunset on the solstice is about 19:33Z; +30 minutes
    assert fires[0].date() == datetime(2025, 6, 21).date()
    assert timedelta(hours=19, minutes=55) < fires[0] - datetime(2025, 6, 21, tzinfo=UTC) < timedelta(hours=20, minutes=10)
    assert all(timedelta(hours=23) < b - a < timedelta(hours=25) for a, b in zip(fires, fires[1:]))


def test_polar_day_without_sunrise_is_skipped():
    s = parse_schedule("sunrise", {"latitude": 78.2, "longitude": 15.6}, anchor=ANCHOR)  # Longyearbyen
    fire = s.next_after(datetime(2025, 6, 1, tzinfo=UTC))
    # the midnight sun lasts until late August there: the next sunrise is weeks away
    assert datetime(2025, 8, 15, tzinfo=UTC) < fire < datetime(2025, 9, 1, tzinfo=UTC)
