"""A cron schedule's fires by arithmetic across a zone's offset changes (domain/conflicts/runs.py):
stretch by stretch of one offset, they are the instants its own `next_after` steps through."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import conflicts as c
from domain.conflicts import runs
from domain.schedules import parse_schedule
from domain.schedules.localtime import next_transition, zone

UTC = timezone.utc
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Auckland", "America/Sao_Paulo"]
minute_st = st.one_of(st.just("*"), st.integers(0, 59).map(str), st.integers(2, 30).map(lambda k: f"*/{k}"),
                      st.just("0,30"), st.just("10-20"))
hour_st = st.one_of(st.just("*"), st.integers(2, 6).map(lambda k: f"*/{k}"), st.just("1-3"), st.just("2"))
cron_st = st.tuples(st.one_of(st.none(), st.just("0"), st.just("*/20")), minute_st, hour_st,
                    st.sampled_from(["*", "1-15"]), st.just("*"), st.sampled_from(["*", "0,6", "1-5"])
                    ).map(lambda f: " ".join(x for x in f if x is not None))


def stepped(schedule, start: datetime, end: datetime) -> list[int]:
    out, t = [], schedule.next_after(start - timedelta(microseconds=1))
    while t is not None and t < end:
        out.append(c.epoch_ms(t))
        t = schedule.next_after(t)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cron_st, st.sampled_from(ZONES), st.integers(2024, 2028), st.integers(0, 1),
       st.integers(-36 * 3600, 3600), st.integers(1, 60 * 3600))
def test_cron_fires_across_an_offset_change_are_the_schedules_own_instants(expression, name, year, which,
                                                                            before, seconds):
    schedule = parse_schedule("cron", {"cron_expression": expression, "timezone": name}, anchor=ANCHOR)
    tz = zone(name)
    change = next_transition(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), tz)
    if which and change is not None:
        change = next_transition(change, datetime(year + 1, 1, 1, tzinfo=UTC), tz)
    if change is None:  # Sao Paulo keeps one offset since 2019: one stretch
        change = datetime(year, 6, 1, tzinfo=UTC)
    start = change + timedelta(seconds=before)
    end = start + timedelta(seconds=seconds)
    fast = runs._cron_fires(schedule, start, end)
    if fast is None:  # across a change, an expression with fixed hours is stepped
        assert not schedule.keeps_frequency
    else:
        assert fast.tolist() == stepped(schedule, start, end)


def test_a_frequent_cron_across_the_autumn_change_fires_in_both_repeated_hours_without_stepping():
    schedule = parse_schedule("cron", {"cron_expression": "*/30 * * * *", "timezone": "Europe/Berlin"}, anchor=ANCHOR)
    start, end = datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    fires, computed_one_by_one = c.expand_counting(schedule, start, end, None)
    assert computed_one_by_one == 0
    assert [c.instant_of(ms).strftime("%H:%M") for ms in fires] == ["00:00", "00:30", "01:00", "01:30"]
    local = [c.instant_of(ms).astimezone(zone("Europe/Berlin")).strftime("%H:%M%z") for ms in fires]
    assert local == ["02:00+0200", "02:30+0200", "02:00+0100", "02:30+0100"]


def test_a_fixed_hour_cron_does_not_fire_again_in_the_hour_repeated_after_the_autumn_change():
    schedule = parse_schedule("cron", {"cron_expression": "*/20 10-20 1-3 * * *", "timezone": "Europe/Berlin"},
                              anchor=ANCHOR)
    start, end = datetime(2026, 10, 25, 1, 8, 18, tzinfo=UTC), datetime(2026, 10, 25, 1, 16, 36, tzinfo=UTC)
    assert c.expand(schedule, start, end).tolist() == stepped(schedule, start, end) == []  # 02:10 CET fired as CEST
