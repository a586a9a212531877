"""The fire planner, pure and with a fake clock: on-time fires start, overlap policy, and the misfire
policy for instants found late (a paused or overloaded dispatcher), whatever made them late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.dispatch.due_index import Due, DueIndex, JobEntry
from application.dispatch.planner import CAUGHT_UP_SKIPPED, OVERLAP_SKIPPED, plan_fires
from domain.actions import parse_action
from domain.options import JobOptions
from domain.schedules import parse_schedule

T0 = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
EVERY_SECOND = parse_schedule("interval", {"interval_seconds": 1}, anchor=T0)


def entry(**options) -> JobEntry:
    return JobEntry(job_id="job_a", name="a", schedule=EVERY_SECOND,
                    action=parse_action({"type": "system", "operation": "health_check"}),
                    options=JobOptions(**options), enabled=True)


def due(seconds: float, kind: str = "scheduled") -> Due:
    instant = T0 + timedelta(seconds=seconds)
    return Due(instant, 0, "job_a", instant, kind=kind)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_an_on_time_fire_starts_and_the_next_instant_is_scheduled():
    e = entry()
    plan = plan_fires([due(5)], {"job_a": e}, at(5.001))
    assert [d.nominal for _, d in plan.starts] == [at(5)] and not plan.missed
    assert plan.reschedule == [(e, at(5))] and e.last_due == at(5)


def test_a_fire_within_the_grace_period_still_starts_normally():
    plan = plan_fires([due(5)], {"job_a": entry(misfire_policy="skip")}, at(6.9))
    assert [d.kind for _, d in plan.starts] == ["scheduled"] and not plan.missed


@pytest.mark.parametrize(
    ("policy", "cap", "runs", "missed"),
    [("skip", 10, [], [5, 6, 7, 8, 9, 10, 11, 12, 13]),
     ("run_once", 10, [13], [5, 6, 7, 8, 9, 10, 11, 12]),
     ("run_all", 3, [11, 12, 13], [5, 6, 7, 8, 9, 10])],
)
def test_instants_found_late_after_a_pause_follow_the_misfire_policy(policy, cap, runs, missed):
    e = entry(misfire_policy=policy, misfire_cap=cap)
    # Paused from 5 s to 15 s: the first slept-through instant comes out of the index 10 s late.
    plan = plan_fires([due(5)], {"job_a": e}, at(15))
    assert [d.nominal for _, d in plan.starts] == [at(s) for s in runs]
    assert all(d.kind == "misfire" for _, d in plan.starts)
    assert [instant for _, instant, _ in plan.missed] == [at(s) for s in missed][-cap:]
    assert all("10.0 s late" in reason and f"misfire_policy={policy}" in reason for _, _, reason in plan.missed)
    # Regular fires resume after the last instant the grace period no longer covers.
    assert plan.reschedule == [(e, at(13))]


def test_a_late_fire_pushed_back_after_a_failed_save_is_planned_the_same_and_not_rescheduled_twice():
    e = entry(misfire_policy="skip")
    first = due(5)
    plan_fires([first], {"job_a": e}, at(15))
    first.requeued = True
    again = plan_fires([first], {"job_a": e}, at(15))
    assert [i for _, i, _ in again.missed] == [at(s) for s in range(5, 14)] and again.reschedule == []


@pytest.mark.parametrize("policy", ["skip", "allow", "queue"])
def test_an_instant_due_while_the_previous_run_is_still_running_follows_the_overlap_policy(policy):
    e = entry(overlap_policy=policy)
    e.running["exec_previous"] = at(4.01)
    plan = plan_fires([due(5)], {"job_a": e}, at(5))
    if policy == "skip":
        assert not plan.starts and [(i, r) for _, i, r in plan.missed] == [(at(5), OVERLAP_SKIPPED)]
    elif policy == "allow":
        assert [d.nominal for _, d in plan.starts] == [at(5)] and not plan.missed
    else:
        assert not plan.starts and not plan.missed and [d.nominal for d in e.queued] == [at(5)]
        assert plan.taken == []  # queued, not recorded: it waits in memory for the job to be free


def test_an_instant_caught_up_late_is_not_said_to_overlap_a_run_begun_after_it():
    # A takeover at 7.9 s: the 6 s instant started then (1.9 s late, within the grace); the 7 s
    # instant comes out of the index while that run still runs. Nothing ran at 7 s itself, so the
    # skip says it was caught up behind a later-begun run (decision 293), not "still running" at 7 s.
    e = entry(overlap_policy="skip")
    e.running["exec_6"] = at(7.9)
    plan = plan_fires([due(7)], {"job_a": e}, at(7.95))
    assert not plan.starts and [(i, r) for _, i, r in plan.missed] == [(at(7), CAUGHT_UP_SKIPPED)]
    e.running["exec_5"] = at(5.01)  # a run begun before the instant was running at it
    plan = plan_fires([due(7)], {"job_a": e}, at(7.95))
    assert [r for _, _, r in plan.missed] == [OVERLAP_SKIPPED]


def test_retries_and_manual_runs_start_whatever_the_lateness():
    e = entry(misfire_policy="skip")
    manual = Due(at(0), 0, "job_a", None, kind="manual", execution_id="exec_m")
    retry = Due(at(0), 0, "job_a", at(0), kind="retry")
    plan = plan_fires([manual, retry], {"job_a": e}, at(60))
    assert [d.kind for _, d in plan.starts] == ["manual"] and [d.kind for _, d in plan.retries] == ["retry"]


def test_a_due_of_a_job_that_went_away_is_dropped():
    assert not plan_fires([due(5)], {}, at(5))


def test_the_due_index_forgets_the_queued_fire_of_a_changed_job():
    index = DueIndex(lambda: 0.0)
    first = entry()
    index.entries["job_a"] = first
    index.schedule_after(first, at(4))
    index.replace(entry(), at(4))  # changed: a new generation; its next fire is queued anew
    assert [d.generation for d in index.pop_due(at(5))] == [1]


def test_runs_of_several_jobs_due_at_one_instant_form_a_group_with_their_tags():
    from application.dispatch.planner import fire_groups, missed_run, started_run

    entries = [JobEntry(job_id=f"job_{n}", name=n, schedule=EVERY_SECOND, enabled=True, tags=(f"t{n}", "all"),
                        action=parse_action({"type": "system", "operation": "health_check"}), options=JobOptions())
               for n in "abc"]
    together = [started_run("gw", e, Due(at(5), 0, e.job_id, at(5)), at(5)) for e in entries[:2]]
    alone = started_run("gw", entries[2], Due(at(6), 0, "job_c", at(6)), at(6))
    manual = started_run("gw", entries[2], Due(at(5), 0, "job_c", at(5), kind="manual"), at(5))
    skipped = missed_run("gw", entries[2], at(5), OVERLAP_SKIPPED, at(5))
    assert together[0].tags == ("ta", "all") and skipped.tags == ("tc", "all")
    (group,) = fire_groups("gw", [*together, alone, manual, skipped], at(5))
    assert (group.group_id, group.scheduled_for, group.job_ids, group.tags) == (
        "instant_20250312150005000", at(5), ["job_a", "job_b"], ["all", "ta", "tb"])
    assert fire_groups("gw", [together[0], alone], at(5)) == []
