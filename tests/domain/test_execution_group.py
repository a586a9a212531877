"""The ExecutionGroup aggregate: members started, finished or skipped, and the group's completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationFailed
from domain.execution_group import ExecutionGroup

NOW = datetime(2026, 3, 12, 15, 15, tzinfo=UTC)


def _group(n: int = 3, *, sequential: bool = True) -> ExecutionGroup:
    members = [{"job_id": f"job_{i}", "execution_id": f"exec_{i}"} for i in range(n)]
    return ExecutionGroup.start(gateway_id="gw", group_id="group_1", sequential=sequential, members=members,
                                include_tags=[], exclude_tags=["maintenance"], now=NOW)


def test_a_group_completes_only_once_no_member_waits_or_runs():
    group = _group(2)
    group.member_started(0, now=NOW)
    assert not group.complete_if_done(now=NOW)
    group.member_finished(0, "success", now=NOW + timedelta(seconds=1))
    group.member_started(1, now=NOW + timedelta(seconds=1))
    group.member_finished(1, "success", now=NOW + timedelta(seconds=2))
    assert group.complete_if_done(now=NOW + timedelta(seconds=2))
    completed = group.collect_events()[-1]
    assert isinstance(completed, ExecutionGroup.Completed)
    assert (completed.status, completed.succeeded, completed.failed, completed.skipped) == ("completed", 2, 0, 0)
    assert group.complete_if_done(now=NOW)  # already complete: records nothing more
    assert group.collect_events() == []


def test_a_failure_or_a_skip_completes_with_errors_and_is_counted():
    group = _group(3)
    for position in (0, 1):
        group.member_started(position, now=NOW)
    group.member_finished(0, "success", now=NOW)
    group.member_finished(1, "timeout", now=NOW)
    group.member_skipped(2, "the job was deleted before its turn", now=NOW)
    assert group.complete_if_done(now=NOW)
    completed = group.collect_events()[-1]
    assert (completed.status, completed.succeeded, completed.failed, completed.skipped) == (
        "completed_with_errors", 1, 1, 1)
    assert group.outcomes == ["success", "timeout", "the job was deleted before its turn"]


def test_an_empty_group_is_complete_at_once():
    group = _group(0)
    assert group.complete_if_done(now=NOW)
    assert group.status == "completed"


def test_a_member_moves_forward_only():
    group = _group(2)
    with pytest.raises(ValidationFailed):
        group.member_finished(0, "success", now=NOW)  # never started
    group.member_started(0, now=NOW)
    with pytest.raises(ValidationFailed):
        group.member_started(0, now=NOW)
    group.member_finished(0, "failed", now=NOW)
    with pytest.raises(ValidationFailed):
        group.member_skipped(0, "late", now=NOW)
    assert group.positions("waiting") == [1] and group.positions("finished") == [0]


def test_a_group_replays_from_its_events():
    group = _group(2)
    group.member_started(0, now=NOW)
    group.member_finished(0, "success", now=NOW)
    events = group.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.states == ["finished", "waiting"] and replayed.members == group.members
    assert replayed.exclude_tags == ["maintenance"] and replayed.sequential
