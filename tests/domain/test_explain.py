"""Why a job did or did not fire (domain/explain.py): every instant of a window classified
against the executions recorded, across edits, toggles, downtime, overlap, DST and bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.explain import Run, Version, explain
from domain.misfires import misfire_plan
from domain.options import JobOptions
from domain.schedules import parse_schedule

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def version(n: int, since: datetime, schedule_type: str = "interval", params: dict[str, Any] | None = None, *,
            enabled: bool = True, reason: str = "", actor: str = "tester", deleted: bool = False,
            anchor: datetime | None = None) -> Version:
    params = params if params is not None else {"interval_seconds": 60}
    schedule = parse_schedule(schedule_type, params, anchor=anchor or since)
    return Version(n, since, actor, reason, None if deleted else schedule, schedule_type, schedule.to_dict(), enabled,
                   "" if enabled else reason, deleted)


def run(instant: datetime, status: str = "success", **kw: Any) -> Run:
    return Run(execution_id=f"exec_{instant:%H%M%S}", trigger=kw.pop("trigger", "scheduled"), status=status,
               scheduled_for=instant, start_time=kw.pop("start_time", instant), **kw)


def statuses(explained: Any) -> list[tuple[datetime, str]]:
    return [(e["instant"], e["status"]) for e in explained.entries]


NOW = at(10_000)


def test_a_run_a_failure_with_retry_a_running_one_and_a_manual_run_beside_the_schedule():
    v = version(1, at(0))
    runs = [run(at(1)), run(at(2), "failed", attempt=3, retry_count=2, code="ACTION_FAILED", message="boom"),
            run(at(3), "success", attempt=2, retry_count=1), run(at(4), "running"),
            Run("exec_manual", "manual", "success", None, at(2.5), actor="alice")]
    found = explain([v], runs, at(0.5), at(4), now=NOW, pruned_before=None)
    assert statuses(found) == [(at(1), "fired"), (at(2), "retried"), (at(2.5), "manual"), (at(3), "retried"),
                               (at(4), "running")]
    failed = found.entries[1]
    assert (failed["outcome"], failed["attempts"], failed["code"], failed["reason"]) == ("failed", 3, "ACTION_FAILED", "boom")
    assert found.entries[0]["execution_id"] == "exec_000100" and found.entries[0]["outcome"] == "success"
    assert found.entries[2]["actor"] == "alice" and found.entries[2]["execution_id"] == "exec_manual"


@pytest.mark.parametrize("policy", ["skip", "run_once", "run_all"])
def test_a_downtime_gap_is_explained_by_the_misfire_policy(policy: str):
    v = version(1, at(0))
    plan = misfire_plan(v.schedule, JobOptions(misfire_policy=policy), at(2), at(6))  # down over 3..6
    runs = [run(at(1)), run(at(2))]
    runs += [run(t, "missed", message=plan.reason) for t in plan.missed]
    runs += [run(t, trigger="misfire", start_time=at(6.1)) for t in plan.run]
    found = explain([v], runs, at(1), at(6), now=NOW, pruned_before=None)
    expected = {"skip": ["missed"] * 4, "run_once": ["missed"] * 3 + ["fired_late"], "run_all": ["fired_late"] * 4}[policy]
    assert [s for _, s in statuses(found)] == ["fired", "fired", *expected]
    for entry in found.entries[2:]:
        if entry["status"] == "missed":
            assert f"misfire_policy={policy}" in entry["reason"]


def test_an_overlap_skip_whether_recorded_missed_or_cancelled_before_start():
    v = version(1, at(0))
    overlap = "skipped: the previous run was still running"
    runs = [run(at(1)), run(at(2), "missed", message=overlap),
            run(at(3), "failed", code="CANCELLED", message=f"cancelled: {overlap}"),
            run(at(4), "failed", code="CANCELLED", message="cancelled: the job was disabled or changed before this run began")]
    found = explain([v], runs, at(1), at(4), now=NOW, pruned_before=None)
    assert [s for _, s in statuses(found)] == ["fired", "skipped_overlap", "skipped_overlap", "cancelled"]


def test_disabled_instants_name_who_why_and_until_when():
    versions = [version(1, at(0)), version(2, at(2.5), enabled=False, reason="maintenance", actor="bob", anchor=at(0)),
                version(3, at(5.5), anchor=at(0))]
    found = explain(versions, [run(at(1)), run(at(2)), run(at(6))], at(1), at(6), now=NOW, pruned_before=None)
    assert statuses(found) == [(at(1), "fired"), (at(2), "fired"), (at(3), "disabled"), (at(4), "disabled"),
                               (at(5), "disabled"), (at(6), "fired")]
    off = found.entries[2]
    assert (off["actor"], off["reason"], off["since"], off["until"], off["version"]) == ("bob", "maintenance", at(2.5), at(5.5), 2)


def test_an_edit_mid_window_switches_schedules_at_the_edit():
    old = version(1, at(0))  # every minute
    new = version(2, at(3.5), params={"interval_seconds": 120})  # every 2 minutes from the edit
    runs = [run(at(m)) for m in (1, 2, 3)] + [run(at(5.5)), run(at(7.5))]
    found = explain([old, new], runs, at(0), at(8), now=NOW, pruned_before=None)
    assert statuses(found) == [(at(m), "fired") for m in (1, 2, 3, 5.5, 7.5)]
    assert [e["version"] for e in found.entries] == [1, 1, 1, 2, 2]


def test_an_instant_at_no_recorded_run_is_pruned_upcoming_pending_or_not_recorded():
    v = version(1, at(0))
    found = explain([v], [], at(1), at(5), now=at(4.5), pruned_before=at(2.5))
    assert [s for _, s in statuses(found)] == ["pruned", "pruned", "not_recorded", "pending", "upcoming"]


def test_a_run_for_an_instant_no_version_called_for_is_still_shown():
    v = version(1, at(0))
    found = explain([v], [run(at(1)), run(at(1.5))], at(0), at(2), now=NOW, pruned_before=None)
    assert [s for _, s in statuses(found)] == ["fired", "fired", "not_recorded"]
    assert "not an instant of the schedule" in found.entries[1]["reason"]


def test_spring_forward_shifts_a_daily_time_in_the_gap_and_says_so():
    since = datetime(2025, 3, 1, tzinfo=UTC)
    v = version(1, since, "daily", {"time": "02:30", "timezone": "America/New_York"})
    start, end = datetime(2025, 3, 8, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC)
    found = explain([v], [], start, end, now=NOW.replace(year=2026), pruned_before=None)
    instants = [e["instant"] for e in found.entries]
    assert instants == [datetime(2025, 3, 8, 7, 30, tzinfo=UTC), datetime(2025, 3, 9, 7, 0, tzinfo=UTC),
                        datetime(2025, 3, 10, 6, 30, tzinfo=UTC)]
    notes = [e.get("dst") for e in found.entries]
    assert notes[0] is None and notes[2] is None
    assert notes[1] == {"kind": "gap", "wall_time": "02:30:00", "fired_local": "2025-03-09T03:00:00-04:00"}


def test_fall_back_fires_a_repeated_time_once_and_explains_the_second_pass():
    since = datetime(2025, 10, 1, tzinfo=UTC)
    v = version(1, since, "daily", {"time": "01:30", "timezone": "America/New_York"})
    start, end = datetime(2025, 11, 2, tzinfo=UTC), datetime(2025, 11, 3, tzinfo=UTC)
    found = explain([v], [run(datetime(2025, 11, 2, 5, 30, tzinfo=UTC))], start, end, now=NOW.replace(year=2026),
                    pruned_before=None)
    assert statuses(found) == [(datetime(2025, 11, 2, 5, 30, tzinfo=UTC), "fired"),
                               (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), "dst_deduplicated")]
    assert found.entries[1]["fired_at"] == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_a_cron_that_fires_both_passes_of_fall_back_reports_no_deduplication():
    since = datetime(2025, 10, 1, tzinfo=UTC)
    v = version(1, since, "cron", {"cron_expression": "30 * * * *", "timezone": "America/New_York"})
    start, end = datetime(2025, 11, 2, 5, tzinfo=UTC), datetime(2025, 11, 2, 7, tzinfo=UTC)
    found = explain([v], [], start, end, now=NOW.replace(year=2026), pruned_before=None)
    assert [e["instant"] for e in found.entries] == [datetime(2025, 11, 2, 5, 30, tzinfo=UTC),
                                                      datetime(2025, 11, 2, 6, 30, tzinfo=UTC)]
    assert {e["status"] for e in found.entries} == {"not_recorded"}


def test_spans_outside_start_and_end_bounds_are_explained():
    v = version(1, at(0), params={"interval_seconds": 60, "start_at": "2025-01-01T00:03:00Z",
                                  "end_at": "2025-01-01T00:05:00Z"})
    found = explain([v], [], at(1), at(8), now=NOW, pruned_before=None)
    assert statuses(found) == [(at(1), "outside_bounds"), (at(3), "not_recorded"), (at(4), "not_recorded"),
                               (at(5), "not_recorded"), (at(5), "outside_bounds")]
    assert found.entries[0]["until"] == at(3) and found.entries[-1]["until"] == at(8)


def test_a_polar_day_without_sunrise_is_explained():
    since = datetime(2025, 6, 1, tzinfo=UTC)
    v = version(1, since, "sunrise", {"event": "sunrise", "latitude": 78.2, "longitude": 15.6})  # Svalbard
    start, end = datetime(2025, 6, 10, tzinfo=UTC), datetime(2025, 6, 12, tzinfo=UTC)
    found = explain([v], [], start, end, now=NOW.replace(year=2026), pruned_before=None)
    assert [(e["status"], e["date"]) for e in found.entries] == [("no_solar_event", "2025-06-10"),
                                                                  ("no_solar_event", "2025-06-11")]


def test_nothing_after_deletion_and_a_long_window_is_truncated():
    versions = [version(1, at(0), params={"interval_seconds": 1}), version(2, at(2), deleted=True, anchor=at(0))]
    found = explain(versions, [], at(0), at(10), now=NOW, pruned_before=None)
    assert len(found.entries) == 120 and found.entries[-1]["instant"] == at(2)
    short = explain(versions, [], at(0), at(10), now=NOW, pruned_before=None, limit=50)
    assert short.truncated and len(short.entries) == 50


@pytest.mark.parametrize(("expression", "shifted"), [
    ("30 2 * * *", {datetime(2025, 3, 9, 7, tzinfo=UTC): "02:30:00"}),
    ("0,30 2 * * *", {datetime(2025, 3, 9, 7, tzinfo=UTC): "02:00:00"}),  # both swallowed times fire once
    ("0 3 * * *", {}),  # 03:00 is the gap's end itself: a regular fire
    ("30 * * * *", {}),  # hourly keeps its frequency in absolute time: no local time is stood in for
])
def test_spring_forward_shifts_a_fixed_hour_cron_match_in_the_gap_and_says_so(expression: str, shifted: dict):
    since = datetime(2025, 3, 1, tzinfo=UTC)
    v = version(1, since, "cron", {"cron_expression": expression, "timezone": "America/New_York"})
    start, end = datetime(2025, 3, 9, 4, tzinfo=UTC), datetime(2025, 3, 9, 12, tzinfo=UTC)
    found = explain([v], [], start, end, now=NOW.replace(year=2026), pruned_before=None)
    # the instants explained are the schedule's own, as the dispatcher steps it
    assert [e["instant"] for e in found.entries] == v.schedule.next_n(start - timedelta(microseconds=1),
                                                                       len(found.entries))
    notes = {e["instant"]: e["dst"] for e in found.entries if "dst" in e}
    assert {t: n["wall_time"] for t, n in notes.items()} == shifted
    for t, note in notes.items():
        assert note == {"kind": "gap", "wall_time": shifted[t], "fired_local": "2025-03-09T03:00:00-04:00"}


def test_fall_back_fires_a_fixed_hour_cron_time_once_and_explains_the_second_pass():
    since = datetime(2025, 10, 1, tzinfo=UTC)
    v = version(1, since, "cron", {"cron_expression": "30 1 * * *", "timezone": "America/New_York"})
    start, end = datetime(2025, 11, 2, tzinfo=UTC), datetime(2025, 11, 3, tzinfo=UTC)
    first, second = datetime(2025, 11, 2, 5, 30, tzinfo=UTC), datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert v.schedule.next_after(first) > end  # the schedule object really fires the repeated time once
    found = explain([v], [run(first)], start, end, now=NOW.replace(year=2026), pruned_before=None)
    assert statuses(found) == [(first, "fired"), (second, "dst_deduplicated")]
    assert found.entries[1]["fired_at"] == first and "dst" not in found.entries[0]


def test_a_bulk_run_beside_the_schedule_is_listed_as_manual_with_its_actor():
    v = version(1, at(0))
    found = explain([v], [run(at(1)), Run("exec_bulk", "bulk", "failed", None, at(1.5), actor="ops")], at(0.5), at(1.9),
                    now=NOW, pruned_before=None)
    assert statuses(found) == [(at(1), "fired"), (at(1.5), "manual")]
    bulk = found.entries[1]
    assert (bulk["trigger"], bulk["actor"], bulk["outcome"], bulk["execution_id"]) == ("bulk", "ops", "failed", "exec_bulk")
