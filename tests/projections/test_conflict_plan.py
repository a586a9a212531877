"""The conflict check's kept sweep (projections/conflict_plan.py): swept over whole days and kept
between checks, it answers exactly as the sweep of the windows' runs alone, and refuses exactly when
that one's budgets do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain import conflicts as c
from domain.errors import ValidationFailed
from domain.schedules import parse_schedule
from domain.schedules.shift import shifted
from projections import conflict_plan as plan

UTC = timezone.utc
START = datetime(2026, 3, 23, 7, 13, tzinfo=UTC)  # the horizon holds Europe/Berlin's spring change (03-29)
MIN = 60_000
SCHEDULES = [
    ("interval", {"interval_seconds": 60, "start_at": "2026-03-20T00:00:20Z"}),
    ("interval", {"interval_seconds": 900, "start_at": "2026-03-22T10:07:00Z"}),
    ("daily", {"time": "02:30", "timezone": "Europe/Berlin"}),  # in the gap on the 29th
    ("daily", {"time": "07:00", "timezone": "Europe/Berlin", "skip_weekends": True}),
    ("weekly", {"days": ["mon", "thu"], "time": "23:30", "timezone": "America/New_York"}),
    ("monthly", {"day": "last", "time": "12:00", "timezone": "Australia/Sydney"}),
    ("once", {"at": "2026-03-26T10:00:00Z"}),
    ("cron", {"cron_expression": "*/15 * * * *", "timezone": "Europe/Berlin"}),
    ("cron", {"cron_expression": "30 2 * * *", "timezone": "Europe/Berlin"}),
    ("cron", {"cron_expression": "0 9-17 * * 1-5", "timezone": "Asia/Kolkata"}),
    ("cron", {"cron_expression": "0 0 L * *"}),
    ("cron", {"cron_expression": "*/20 * * * * *", "timezone": "UTC"}),
    ("sunrise", {"event": "sunset", "offset_minutes": -30, "latitude": 52.5, "longitude": 13.4,
                 "timezone": "Europe/Berlin"}),
]
DURATIONS = [60_000, 25 * MIN, 3 * 60 * MIN, 45_000]
CANDIDATES = [
    ("cron", {"cron_expression": "0 * * * *", "timezone": "Europe/Berlin"}, 2 * MIN),
    ("daily", {"time": "02:30", "timezone": "Europe/Berlin"}, 5 * MIN),
    ("interval", {"interval_seconds": 3600, "start_at": "2026-03-23T00:20:00Z"}, 40 * MIN),
]


def schedule(kind: str, params: dict) -> object:
    return parse_schedule(kind, params, anchor=START - timedelta(days=3))


def others(*, topic_every: int = 3) -> list[plan.Other]:
    out = []
    for i, (kind, params) in enumerate(SCHEDULES):
        targets = c.targets_of({"type": "publish", "topic": "plant/a" if i % topic_every == 0 else f"t/{i}"})
        out.append(plan.Other(f"job-{i:02d}", f"job {i}", schedule(kind, params), DURATIONS[i % 4], targets))
    return out


def moves(kind: str, params: dict) -> list[tuple[int, object]]:
    base = schedule(kind, params)
    moved = [(m, shifted(base, m)) for m in c.shifts(60, 15)]
    return [(m, s) for m, s in moved if s is not None]


def assessments(sweep: c.Sweep, options: list, duration: int) -> list[c.Assessment]:
    targets = c.targets_of({"type": "publish", "topic": "plant/a"})
    end = START + timedelta(days=7)
    return [sweep.assess(c.expand(s, START, end), duration, targets, summary=m != 0) for m, s in options]


@pytest.mark.parametrize(("kind", "params", "duration"), CANDIDATES)
@pytest.mark.parametrize("limit", [1, 5])
def test_the_kept_sweep_answers_as_the_sweep_of_the_windows_alone(kind, params, duration, limit):
    plan.forget()
    options = moves(kind, params)
    end = START + timedelta(days=7)
    jobs = others()
    windows = c.windows_around([c.expand(s, START, end) for _, s in options],
                               max(j.duration_ms for j in jobs), duration)
    windowed = assessments(plan._windowed(jobs, windows, limit, c.epoch_ms(START)), options, duration)
    kept = plan.sweep_of(jobs, windows, limit, c.epoch_ms(START))
    assert kept is plan.sweep_of(jobs, windows, limit, c.epoch_ms(START))  # the next check reuses it
    assert assessments(kept, options, duration) == windowed
    assert windowed[0].conflicts and len({a.score for a in windowed}) > 1  # answers worth comparing


def test_a_changed_job_set_is_swept_anew():
    plan.forget()
    jobs = others()
    windows = c.windows_around([c.expand(schedule("daily", {"time": "07:10"}), START, START + timedelta(days=7))],
                               3 * 60 * MIN, 5 * MIN)
    first = plan.sweep_of(jobs, windows, 5, c.epoch_ms(START))
    longer = [*jobs[:-1], plan.Other(jobs[-1].job_id, jobs[-1].name, jobs[-1].schedule, 61_000, jobs[-1].targets)]
    assert plan.sweep_of(longer, windows, 5, c.epoch_ms(START)) is not first
    assert plan.sweep_of(jobs[1:], windows, 5, c.epoch_ms(START)) is not first


def test_the_budgets_refuse_exactly_when_the_windowed_sweep_does(monkeypatch):
    plan.forget()
    jobs = [plan.Other(f"d{i}", f"d{i}", schedule("daily", {"time": f"0{i}:00"}), 60_000) for i in range(1, 4)]
    one_run = c.windows_around([c.expand(schedule("once", {"at": "2026-03-25T02:00:30Z"}), START,
                                         START + timedelta(days=7))], 60_000, 60_000)
    monkeypatch.setattr(plan, "MAX_STEPPED_RUNS", 2)  # the span (that day) steps 3 fires, the window 1
    kept = plan.sweep_of(jobs, one_run, 5, c.epoch_ms(START))
    assert [x.job_id for x in kept.others] == ["d2"]  # the windowed sweep's: the span's counts proved nothing
    every_day = c.windows_around([c.expand(schedule("daily", {"time": "02:00"}), START, START + timedelta(days=7))],
                                 3 * 3600_000, 60_000)
    for sweep in (plan.sweep_of, plan._windowed):
        with pytest.raises(ValidationFailed, match="job d1 passed it"):
            sweep(jobs, every_day, 5, c.epoch_ms(START))
