"""The conflict sweep (domain/conflicts.py) and moved schedules (domain/schedules/shift.py): unit
cases, and properties against a brute-force reference over random runs."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import conflicts as c
from domain.schedules import parse_schedule
from domain.schedules.shift import shifted

UTC = timezone.utc
NOW = datetime(2026, 3, 23, tzinfo=UTC)  # the week of Europe/Berlin's spring change (2026-03-29)
MIN = 60_000
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def runs(*minutes: int) -> np.ndarray:
    return c.epoch_ms(NOW) + MIN * np.asarray(minutes, dtype=np.int64)


def job(job_id: str, starts: np.ndarray, minutes: int, targets: frozenset[str] = frozenset()) -> c.PlannedJob:
    return c.PlannedJob(job_id, job_id.upper(), np.asarray(starts, dtype=np.int64), minutes * MIN, targets)


def sweep(*jobs: c.PlannedJob, limit: int = 5) -> c.Sweep:
    return c.Sweep(list(jobs), limit, c.epoch_ms(NOW))


def test_overlapping_runs_are_a_time_overlap_counted_per_candidate_run():
    s = sweep(job("a", runs(0, 60, 120), 5))
    found = s.assess(runs(2, 62, 200), 5 * MIN)
    (conflict,) = found.conflicts
    assert (conflict.job_id, conflict.conflict_type, conflict.occurrences) == ("a", "time_overlap", 2)
    assert conflict.severity == "medium"  # 2 of 3 runs collide: at least half
    assert (conflict.first_start, conflict.first_end) == (int(runs(2)[0]), int(runs(5)[0]))
    assert (found.candidate_runs, found.colliding_runs, found.peak_concurrency) == (3, 2, 2)


def test_runs_that_only_touch_do_not_collide():
    found = sweep(job("a", runs(0), 5)).assess(runs(5), 5 * MIN)
    assert found.conflicts == () and found.peak_concurrency == 1


def test_few_colliding_runs_are_low_severity():
    found = sweep(job("a", runs(0), 5)).assess(runs(0, 100, 200), 5 * MIN)
    assert [x.severity for x in found.conflicts] == ["low"]


def test_a_shared_topic_while_overlapping_is_a_high_shared_target_instead_of_an_overlap():
    topic = c.targets_of({"type": "publish", "topic": "plant/x"})
    s = sweep(job("a", runs(0), 5, topic), job("b", runs(0), 5, frozenset({"mqtt:other"})))
    found = s.assess(runs(1), 5 * MIN, topic)
    assert [(x.job_id, x.conflict_type, x.severity, x.shared_targets) for x in found.conflicts] == [
        ("a", "shared_target", "high", ("mqtt:plant/x",)), ("b", "time_overlap", "medium", ()),
    ]


def test_file_targets_are_normalised_paths():
    assert c.targets_of({"type": "file", "operation": "archive", "pattern": "./logs//*.log", "destination": "arc/"}) \
        == frozenset({"file:logs/*.log", "file:arc"})
    assert c.targets_of({"type": "system", "operation": "health_check"}) == frozenset()


def test_the_limit_is_exceeded_only_above_max_concurrent():
    s = sweep(job("a", runs(0), 10), job("b", runs(2), 10), limit=3)
    at_limit = s.assess(runs(3), 5 * MIN)
    assert at_limit.peak_concurrency == 3 and {x.conflict_type for x in at_limit.conflicts} == {"time_overlap"}
    over = sweep(job("a", runs(0), 10), job("b", runs(2), 10), limit=2).assess(runs(3), 5 * MIN)
    limited = [x for x in over.conflicts if x.conflict_type == "concurrency_limit"]
    assert sorted(x.job_id for x in limited) == ["a", "b"] and all(x.severity == "high" for x in limited)
    assert over.conflicts[0].conflict_type == "concurrency_limit"  # high first


def test_the_nearest_move_that_removes_the_conflict_comes_first_and_is_stable():
    daily = parse_schedule("daily", {"time": "02:00", "timezone": "Europe/Berlin"}, anchor=NOW)
    end = NOW + timedelta(days=7)
    other = job("backup", c.expand(daily, NOW, end), 5)
    s = sweep(other)
    base = s.assess(c.expand(daily, NOW, end), 5 * MIN)
    assert [x.occurrences for x in base.conflicts] == [7]

    def options():
        return [c.Option(m, shifted(daily, m), c.expand(shifted(daily, m), NOW, end)) for m in c.shifts(60, 5)[1:]]

    first = c.recommend(s, base, options(), 5 * MIN)
    again = c.recommend(s, base, options(), 5 * MIN)
    # 02:05 would still meet the backup once: on 2026-03-29 both fall in the gap and fire at 03:00 CEST.
    assert [(r.shift_minutes, r.schedule.time) for r in first] == [(-5, time(1, 55)), (-10, time(1, 50)),
                                                                   (-15, time(1, 45))]
    assert [r.shift_minutes for r in again] == [r.shift_minutes for r in first]
    assert all(r.removes_all and r.after.peak_concurrency == 1 for r in first)
    later = s.assess(c.expand(shifted(daily, 5), NOW, end), 5 * MIN)
    assert [(x.occurrences, x.first_start) for x in later.conflicts] == [(1, c.epoch_ms(datetime(2026, 3, 29, 1, tzinfo=UTC)))]


def test_when_every_move_still_collides_nothing_is_recommended():
    always = job("poll", runs(*range(-10, 400)), 1)  # a run every minute, each a minute long
    daily = parse_schedule("daily", {"time": "00:30"}, anchor=NOW)
    end = NOW + timedelta(hours=6)
    s = sweep(always)
    base = s.assess(c.expand(daily, NOW, end), MIN)
    options = [c.Option(m, shifted(daily, m), c.expand(shifted(daily, m), NOW, end)) for m in c.shifts(30, 5)[1:]]
    assert base.conflicts and c.recommend(s, base, options, MIN) == []


def test_no_conflict_needs_no_recommendation():
    s = sweep(job("a", runs(100), 5))
    assert c.recommend(s, s.assess(runs(0), MIN), [], MIN) == []


def test_shifted_schedules():
    daily = parse_schedule("daily", {"time": "23:50"}, anchor=NOW)
    assert shifted(daily, 20).time == time(0, 10)
    weekdays = parse_schedule("daily", {"time": "23:50", "skip_weekends": True}, anchor=NOW)
    assert shifted(weekdays, 20) is None and shifted(weekdays, -20).time == time(23, 30)
    weekly = parse_schedule("weekly", {"days": ["mon"], "time": "00:10"}, anchor=NOW)
    assert shifted(weekly, -15) is None
    cron = parse_schedule("cron", {"cron_expression": "0 2 * * *", "timezone": "Europe/Berlin"}, anchor=NOW)
    assert shifted(cron, 70).cron_expression == "10 3 * * *"
    assert shifted(cron, -130).cron_expression == "50 23 * * *"
    office = parse_schedule("cron", {"cron_expression": "30 9-17 * * 1-5"}, anchor=NOW)
    assert shifted(office, 45).cron_expression == "15 10,11,12,13,14,15,16,17,18 * * 1-5"
    assert shifted(parse_schedule("cron", {"cron_expression": "0 23 * * 1-5"}, anchor=NOW), 90) is None
    assert shifted(parse_schedule("cron", {"cron_expression": "*/15 * * * *"}, anchor=NOW), 5) is None
    hourly = parse_schedule("cron", {"cron_expression": "5 * * * *"}, anchor=NOW)
    assert shifted(hourly, 70).cron_expression == "15 * * * *"
    interval = parse_schedule("interval", {"interval_seconds": 600}, anchor=NOW)
    moved = shifted(interval, 3)
    assert moved.first == interval.first + timedelta(minutes=3) and moved.to_dict()["start_at"].endswith("Z")
    solar = parse_schedule("sunrise", {"event": "sunset", "offset_minutes": 700, "latitude": 52.5, "longitude": 13.4},
                           anchor=NOW)
    assert shifted(solar, 30) is None and shifted(solar, -30).offset_minutes == 670


def test_expansion_follows_the_schedule_across_the_dst_change():
    daily = parse_schedule("daily", {"time": "02:30", "timezone": "Europe/Berlin"}, anchor=NOW)
    fires = [c.instant_of(ms) for ms in c.expand(daily, NOW, NOW + timedelta(days=8))]
    assert fires[5:8] == [datetime(2026, 3, 28, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                          datetime(2026, 3, 30, 0, 30, tzinfo=UTC)]  # the gap's 02:30 fires at 03:00 CEST


def test_windows_merge_overlapping_spans():
    assert c.windows_around([np.array([0, 10, 100]), np.array([12])], 3, 2) == [(-3, 2), (7, 14), (97, 102)]
    assert c.windows_around([], 1, 1) == []


# -- properties against a brute-force reference ------------------------------------------------

starts_st = st.lists(st.integers(0, 600), min_size=0, max_size=12, unique=True).map(sorted)
jobs_st = st.lists(st.tuples(starts_st, st.integers(1, 60), st.booleans()), min_size=0, max_size=6)
candidate_st = st.lists(st.integers(0, 600), min_size=1, max_size=8, unique=True).map(sorted)


def _planned(spec) -> list[c.PlannedJob]:
    target = frozenset({"mqtt:t"})
    return [job(f"j{i}", runs(*s), d, target if shared else frozenset()) for i, (s, d, shared) in enumerate(spec)]


def _reference(others: list[c.PlannedJob], starts: list[int], duration: int):
    spans = [(int(s), int(s) + duration) for s in runs(*starts)]
    per_job = {}
    for j in others:
        hit = sum(1 for s, e in spans if any(t < e and t + j.duration_ms > s for t in j.starts))
        if hit:
            per_job[j.job_id] = hit
    peak = 0
    for s, e in spans:
        instants = [s] + [int(t) for j in others for t in j.starts if s < t < e]
        level = max(sum(1 for j in others for t in j.starts if t <= x < t + j.duration_ms) for x in instants)
        peak = max(peak, 1 + level)
    return per_job, peak


@PROPERTY
@given(jobs_st, candidate_st, st.integers(1, 45), st.integers(1, 4))
def test_the_sweep_agrees_with_brute_force(spec, starts, minutes, limit):
    others = _planned(spec)
    found = sweep(*others, limit=limit).assess(runs(*starts), minutes * MIN, frozenset({"mqtt:t"}))
    per_job, peak = _reference(others, starts, minutes * MIN)
    overlaps = {x.job_id: x.occurrences for x in found.conflicts if x.conflict_type != "concurrency_limit"}
    assert overlaps == per_job
    assert found.peak_concurrency == peak
    assert any(x.conflict_type == "concurrency_limit" for x in found.conflicts) == (peak > limit)
    for x in found.conflicts:
        assert x.first_start < x.first_end and x.severity == c.severity(x.conflict_type, x.occurrences, len(starts))


@PROPERTY
@given(jobs_st, candidate_st, st.integers(1, 45), st.integers(1, 4), st.sampled_from([5, 10, 15]))
def test_a_recommendation_is_never_worse_and_is_what_a_re_check_finds(spec, starts, minutes, limit, step):
    s = sweep(*_planned(spec), limit=limit)
    base = s.assess(runs(*starts), minutes * MIN)
    once = parse_schedule("once", {"at": "2026-03-23T00:00:00Z"}, anchor=NOW)  # a stand-in to carry the move

    def options():
        return [c.Option(m, shifted(once, m), runs(*starts) + m * MIN) for m in c.shifts(60, step)[1:]]

    found = c.recommend(s, base, options(), minutes * MIN)
    assert [r.shift_minutes for r in found] == [r.shift_minutes for r in c.recommend(s, base, options(), minutes * MIN)]
    for r in found:
        # Better by the documented ranking (high-severity conflicts first): a move may trade a
        # high-severity conflict for more low ones, never the other way round.
        assert r.after.score < base.score and r.after.high_count <= base.high_count
        again = s.assess(runs(*starts) + r.shift_minutes * MIN, minutes * MIN)
        assert (again.score, len(again.conflicts)) == (r.after.score, again.conflict_count)
        assert again.high_count == sum(1 for x in again.conflicts if x.severity == "high")
    scores = [(r.after.score, abs(r.shift_minutes)) for r in found]
    assert scores == sorted(scores)


@PROPERTY
@given(st.integers(1, 7200), st.integers(0, 86_400), st.integers(0, 3 * 86_400), st.integers(1, 86_400))
def test_interval_expansion_is_the_schedules_own_instants(seconds, first_offset, start_offset, length):
    schedule = parse_schedule("interval", {"interval_seconds": seconds,
                                           "start_at": (NOW + timedelta(seconds=first_offset)).isoformat()}, anchor=NOW)
    if (length // seconds) > 2000:
        return
    start = NOW + timedelta(seconds=start_offset)
    end = start + timedelta(seconds=length)
    expected, t = [], schedule.next_after(start - timedelta(microseconds=1))
    while t is not None and t < end:
        expected.append(c.epoch_ms(t))
        t = schedule.next_after(t)
    assert c.expand(schedule, start, end).tolist() == expected


def _cron_field(lo, hi):
    return st.one_of(
        st.just("*"), st.integers(2, 15).map(lambda k: f"*/{k}"), st.integers(lo, hi).map(str),
        st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda p: f"{min(p)}-{max(p)}"),
        st.lists(st.integers(lo, hi), min_size=2, max_size=3, unique=True).map(lambda v: ",".join(map(str, sorted(v)))),
    )


cron_st = st.tuples(
    st.one_of(st.none(), st.sampled_from(["0", "30", "*/20"])), _cron_field(0, 59), _cron_field(0, 23),
    st.one_of(st.just("*"), _cron_field(1, 28)), st.one_of(st.just("*"), _cron_field(1, 12)),
    st.one_of(st.just("*"), _cron_field(0, 6)),
).map(lambda f: " ".join(x for x in f if x is not None))


@PROPERTY
@given(cron_st, st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
       st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31)), st.integers(60, 86_400))
def test_cron_expansion_by_arithmetic_is_the_schedules_own_instants(expression, zone, start, seconds):
    schedule = parse_schedule("cron", {"cron_expression": expression, "timezone": zone}, anchor=NOW)
    start = start.replace(tzinfo=UTC)
    end = start + timedelta(seconds=seconds)
    expected, t = [], schedule.next_after(start - timedelta(microseconds=1))
    while t is not None and t < end and len(expected) < 2000:
        expected.append(c.epoch_ms(t))
        t = schedule.next_after(t)
    if len(expected) < 2000:
        assert c.expand(schedule, start, end).tolist() == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(-89, 89), st.floats(-179, 179), st.sampled_from(["sunrise", "sunset", "dawn", "dusk"]),
       st.integers(-720, 720), st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati"]),
       st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31)), st.integers(1, 6))
def test_solar_expansion_day_by_day_is_the_schedules_own_instants(lat, lon, event, offset, zone, start, days):
    schedule = parse_schedule("sunrise", {"event": event, "offset_minutes": offset, "latitude": lat, "longitude": lon,
                                          "timezone": zone}, anchor=NOW)
    start = start.replace(tzinfo=UTC)
    end = start + timedelta(days=days)
    expected, t = [], schedule.next_after(start - timedelta(microseconds=1))
    while t is not None and t < end:
        expected.append(c.epoch_ms(t))
        t = schedule.next_after(t)
    assert c.expand(schedule, start, end).tolist() == expected


@PROPERTY
@given(st.sampled_from([{"type": "daily", "time": "02:00", "timezone": "Europe/Berlin"},
                        {"type": "weekly", "days": ["mon", "thu"], "time": "23:30", "timezone": "America/New_York"},
                        {"type": "monthly", "day": "last", "time": "12:00"},
                        {"type": "once", "at": "2026-03-25T10:00:00Z"},
                        {"type": "cron", "cron_expression": "0 0 L * *"}]),
       st.lists(st.tuples(st.integers(0, 40 * 24 * 60), st.integers(0, 3 * 24 * 60)), min_size=1, max_size=6))
def test_expansion_within_windows_is_the_expansion_of_each_window(params, spans):
    schedule = parse_schedule(params["type"], {k: v for k, v in params.items() if k != "type"}, anchor=NOW)
    starts = [runs(a)[0] for a, _ in spans]
    windows = c.windows_around([np.asarray(starts)], 0, max(b for _, b in spans) * MIN)
    each = [c.expand(schedule, c.instant_of(lo), c.instant_of(hi + 1)).tolist() for lo, hi in windows]
    assert c.expand_within(schedule, windows)[0].tolist() == [ms for part in each for ms in part]
