"""Property-based checks over random zones, start instants and schedule params."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.schedules import parse_schedule

UTC = timezone.utc
ZONES = sorted(available_timezones())
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N = 6

zones = st.sampled_from(ZONES)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
clock = st.tuples(st.integers(0, 23), st.integers(0, 59), st.sampled_from([0, 0, 0, 30]))


def _time_text(hms):
    h, m, s = hms
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _field(lo, hi):
    return st.one_of(
        st.just("*"),
        st.integers(2, 15).map(lambda k: f"*/{k}"),
        st.integers(lo, hi).map(str),
        st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda p: f"{min(p)}-{max(p)}"),
        st.lists(st.integers(lo, hi), min_size=2, max_size=3, unique=True).map(lambda v: ",".join(map(str, sorted(v)))),
    )


cron_exprs = st.tuples(
    st.one_of(st.none(), st.sampled_from(["0", "30", "*/20"])),
    _field(0, 59), _field(0, 23), st.one_of(st.just("*"), st.integers(1, 28).map(str)),
    st.sampled_from(["*", "*", "3", "1-6", "*/3"]), st.sampled_from(["*", "*", "1-5", "0,6", "1"]),
).map(lambda f: " ".join(x for x in f if x is not None))

calendar_params = st.one_of(
    st.tuples(st.just("daily"), st.builds(lambda c, b: {"time": _time_text(c), "skip_weekends": b}, clock, st.booleans())),
    st.tuples(st.just("weekly"), st.builds(
        lambda c, d: {"time": _time_text(c), "days": d}, clock,
        st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, max_size=7, unique=True),
    )),
    st.tuples(st.just("monthly"), st.builds(
        lambda c, d: {"time": _time_text(c), "day": d}, clock, st.one_of(st.integers(1, 31), st.just("last"))
    )),
)


def _is_transition(instant, tz):
    return (instant - timedelta(seconds=1)).astimezone(tz).utcoffset() != instant.astimezone(tz).utcoffset()


def _check_sequence(schedule, t):
    fires = schedule.next_n(t, N)
    assert len(fires) == N
    assert all(f.tzinfo is UTC for f in fires)
    assert fires[0] > t
    assert all(a < b for a, b in zip(fires, fires[1:]))
    stepped, cur = [], t
    for _ in range(N):
        cur = schedule.next_after(cur)
        stepped.append(cur)
    assert stepped == fires
    return fires


@PROPERTY
@given(zone=zones, t=instants, expr=cron_exprs)
def test_cron_fires_increase_and_match_their_fields_locally(zone, t, expr):
    schedule = parse_schedule("cron", {"cron_expression": expr, "timezone": zone}, anchor=t)
    tz = ZoneInfo(zone)
    hour_field = expr.split()[-4]
    repeating = "*" in hour_field or "/" in hour_field
    for fire in _check_sequence(schedule, t):
        wall = fire.astimezone(tz).replace(tzinfo=None)
        matches = schedule._cron.after(wall - timedelta(microseconds=1)) == wall
        # only a fixed-hour expression may be moved, and only to the end of a DST gap
        assert matches or (not repeating and _is_transition(fire, tz)), (fire, wall)


@PROPERTY
@given(zone=zones, t=instants, minute=_field(0, 59))
def test_repeating_cron_misses_no_real_matching_minute(zone, t, minute):
    schedule = parse_schedule("cron", {"cron_expression": f"{minute} * * * *", "timezone": zone}, anchor=t)
    tz = ZoneInfo(zone)
    t = t.replace(second=0, microsecond=0)
    fire = schedule.next_after(t)
    probe = t + timedelta(minutes=1)
    while probe < fire:
        wall = probe.astimezone(tz).replace(tzinfo=None)
        assert schedule._cron.after(wall - timedelta(microseconds=1)) != wall, probe
        probe += timedelta(minutes=1)


@PROPERTY
@given(zone=zones, t=instants, kind_params=calendar_params)
def test_calendar_fires_increase_and_land_on_their_local_time(zone, t, kind_params):
    kind, params = kind_params
    schedule = parse_schedule(kind, {**params, "timezone": zone}, anchor=t)
    tz = ZoneInfo(zone)
    for fire in _check_sequence(schedule, t):
        local = fire.astimezone(tz)
        if local.time() != schedule.time:
            assert _is_transition(fire, tz), (fire, local)  # moved to the end of a gap
            continue
        if kind == "weekly":
            assert local.weekday() in schedule.days
        if kind == "daily" and schedule.skip_weekends:
            assert local.weekday() < 5
        if kind == "monthly" and schedule.day != "last":
            assert local.day == schedule.day or (local.day < schedule.day and (local + timedelta(days=1)).day == 1)


@PROPERTY
@given(
    t=instants, seconds=st.integers(1, 366 * 86400), jitter=st.floats(0, 50),
    draws=st.lists(st.floats(-1, 1), min_size=N, max_size=N),
)
def test_interval_fires_are_evenly_spaced_and_jitter_stays_in_bound(t, seconds, jitter, draws):
    schedule = parse_schedule("interval", {"interval_seconds": seconds, "jitter_percentage": jitter}, anchor=t)
    fires = _check_sequence(schedule, t)
    assert fires[0] == t + timedelta(seconds=seconds)
    assert all(b - a == timedelta(seconds=seconds) for a, b in zip(fires, fires[1:]))
    actual = [schedule.jittered(f, d) for f, d in zip(fires, draws)]
    bound = timedelta(seconds=jitter / 100 * seconds + 1e-6)
    assert all(abs(a - f) <= bound for a, f in zip(actual, fires))
    assert all(a <= b for a, b in zip(actual, actual[1:]))


@PROPERTY
@given(zone=zones, t=instants, kind_params=calendar_params)
def test_calendar_to_dict_round_trips(zone, t, kind_params):
    kind, params = kind_params
    schedule = parse_schedule(kind, {**params, "timezone": zone}, anchor=t)
    assert parse_schedule(kind, schedule.to_dict(), anchor=t) == schedule
