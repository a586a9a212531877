"""Misfire planning: which missed instants run, which are recorded missed, where fires resume."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.misfires import misfire_plan
from domain.options import JobOptions
from domain.schedules import parse_schedule

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
EVERY_MINUTE = parse_schedule("interval", {"interval_seconds": 60}, anchor=T0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_nothing_missed_resumes_after_the_checkpoint():
    plan = misfire_plan(EVERY_MINUTE, JobOptions(), at(5), at(5) + timedelta(seconds=30))
    assert plan.missed == [] and plan.run == [] and plan.resume_after == at(5)


def test_skip_records_every_missed_instant_up_to_the_cap():
    plan = misfire_plan(EVERY_MINUTE, JobOptions(misfire_policy="skip", misfire_cap=3), at(0), at(5))
    assert plan.run == [] and plan.missed == [at(3), at(4), at(5)] and plan.resume_after == at(5)
    assert "2 earlier instants not recorded" in plan.reason


def test_run_once_runs_only_the_latest():
    plan = misfire_plan(EVERY_MINUTE, JobOptions(misfire_policy="run_once"), at(0), at(4))
    assert plan.run == [at(4)] and plan.missed == [at(1), at(2), at(3)]


def test_run_all_runs_each_up_to_the_cap_oldest_first():
    plan = misfire_plan(EVERY_MINUTE, JobOptions(misfire_policy="run_all", misfire_cap=2), at(0), at(4))
    assert plan.run == [at(3), at(4)] and plan.missed == [at(1), at(2)]


def test_a_huge_backlog_is_bounded_and_resumes_at_the_cutoff():
    every_second = parse_schedule("interval", {"interval_seconds": 1}, anchor=T0)
    cutoff = T0 + timedelta(days=30)
    plan = misfire_plan(every_second, JobOptions(misfire_policy="skip", misfire_cap=5), T0, cutoff)
    assert len(plan.missed) == 5 and plan.resume_after == cutoff and "+" in plan.reason
