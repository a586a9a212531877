"""The FireGroup aggregate: a group of runs due at one instant completes once every member's run
is final, as completed when all succeeded, else completed_with_errors; an older group's members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.fire_group import FireGroup
from domain.identity import execution_id

NOW = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)


def _group() -> FireGroup:
    return FireGroup.start("gw", NOW, ["job_a", "job_b"], ["x", "y", "x"], NOW, ["exec_a", "exec_b"])


def test_a_group_completes_only_once_every_members_run_is_final():
    group = _group()
    assert not group.complete_if_done({}, now=NOW)
    assert not group.complete_if_done({"exec_a": "success", "exec_b": "running"}, now=NOW)
    assert not group.complete_if_done({"exec_a": "success", "exec_b": "retrying"}, now=NOW)
    assert len(group.collect_events()) == 1  # Started only
    assert group.complete_if_done({"exec_a": "success", "exec_b": "success"}, now=NOW + timedelta(seconds=2))
    (completed,) = group.collect_events()
    assert isinstance(completed, FireGroup.Completed) and group.status == "completed"
    assert (completed.gateway_id, completed.group_id, completed.scheduled_for, completed.job_ids, completed.tags) == (
        "gw", "instant_20260312020000000", NOW, ["job_a", "job_b"], ["x", "y"])
    assert (completed.status, completed.succeeded, completed.failed) == ("completed", 2, 0)
    assert completed.timestamp == NOW + timedelta(seconds=2)
    assert group.complete_if_done({"exec_a": "success", "exec_b": "success"}, now=NOW)  # once
    assert group.collect_events() == []


def test_a_failed_timed_out_or_missed_member_completes_the_group_with_errors():
    for other in ("failed", "timeout", "missed"):
        group = _group()
        assert group.complete_if_done({"exec_a": "success", "exec_b": other}, now=NOW)
        completed = group.collect_events()[-1]
        assert (completed.status, completed.succeeded, completed.failed) == ("completed_with_errors", 1, 1)


def test_a_group_recorded_before_it_named_its_runs_has_the_runs_derived_from_job_and_instant():
    old = FireGroup.start("gw", NOW, ["job_a", "job_b"], [], NOW)
    assert old.execution_ids == [execution_id("job_a", "scheduled", NOW), execution_id("job_b", "scheduled", NOW)]
