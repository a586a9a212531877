"""A group of runs due at one instant (FireGroup) is completed in the transaction that records its
last member's end, against the real PostgreSQL and a real dispatcher: by the outcome writer, and,
after its dispatcher died with a member still running, by the next leader closing that run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from application.executors.log import ExecutionLog
from application.executors.ports import ExecutionResult
from domain.execution import Execution
from domain.fire_group import FireGroup
from domain.identity import execution_id, fire_group_id, fire_group_uuid
from tests.application.dispatch_support import FakeExecutor, dispatcher, wait_until
from tests.application.test_takeover import FormerLeader

pytestmark = pytest.mark.slow
ACTION = {"type": "system", "operation": "health_check"}


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


def _group(runtime, gateway_id: str, instant: datetime) -> FireGroup | None:
    try:
        return runtime.app.repository.get(fire_group_uuid(gateway_id, fire_group_id(instant)))
    except Exception:  # noqa: BLE001 - not recorded (yet)
        return None


def _events(runtime, aggregate_id) -> list:
    return list(runtime.app.events.get(aggregate_id))


def _position_of_last(runtime, aggregate_id) -> int:
    """The notification id of the aggregate's last event (its place in the log)."""
    last = _events(runtime, aggregate_id)[-1]
    with runtime.app.recorder.datastore.transaction(commit=False) as curs:
        curs.execute("SELECT notification_id FROM scheduler_events WHERE originator_id = %s AND originator_version = %s",
                     (aggregate_id, last.originator_version))
        return curs.fetchone()["notification_id"]


def test_a_real_dispatchers_group_completes_with_its_last_members_outcome(runtime):
    gw = _gateway()
    instant = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    at = instant.isoformat().replace("+00:00", "Z")
    jobs = [runtime.app.create_job(gw, {"name": name, "type": "once", "schedule": {"at": at}, "action": ACTION},
                                   actor="t").job.job_id for name in ("ok", "doomed", "ok too")]

    def behave(ctx, n):
        log = ExecutionLog()
        return ExecutionResult.failure("boom", log) if ctx.job_id == jobs[1] else ExecutionResult.success("ok", log)

    d = dispatcher(runtime, gw, FakeExecutor(behave))
    d.start()
    try:
        assert wait_until(lambda: (g := _group(runtime, gw, instant)) is not None and g.status != "running", timeout=30)
    finally:
        d.stop()
    group = _group(runtime, gw, instant)
    completed = _events(runtime, group.id)[-1]
    assert isinstance(completed, FireGroup.Completed)
    assert (completed.status, completed.succeeded, completed.failed) == ("completed_with_errors", 2, 1)
    assert sorted(completed.job_ids) == sorted(jobs) and completed.scheduled_for == instant
    runs = [Execution.id_for(gw, e) for e in group.execution_ids]
    assert sorted(runtime.app.repository.get(r).status for r in runs) == ["failed", "success", "success"]
    # In the transaction of the last end: right after it in the log, nothing of this gateway between.
    assert _position_of_last(runtime, group.id) == max(_position_of_last(runtime, r) for r in runs) + 1
    assert len(d.groups) == 0  # forgotten once completed


def test_a_group_whose_dispatcher_died_is_completed_by_the_next_leader_closing_its_last_run(runtime):
    gw = _gateway()
    instant = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    fields = {"name": "hourly", "type": "interval", "schedule": {"interval_seconds": 3600}, "action": ACTION}
    jobs = [runtime.app.create_job(gw, fields, actor="t").job.job_id for _ in range(2)]
    old = FormerLeader(runtime, gw)
    now = datetime.now(UTC)
    runs = [Execution.start(gateway_id=gw, job_id=j, execution_id=execution_id(j, "scheduled", instant),
                            job_name="hourly", trigger="scheduled", scheduled_for=instant, now=now) for j in jobs]
    assert old.store.save_fires(runs, old.lead.term, now, {r.id: now for r in runs}) == {r.id for r in runs}
    runs[0].succeed(now=now, duration_ms=5, message="ok", logs=[])
    runtime.app.record([runs[0]], side_statements=old.store.finished_side([runs[0].id]))
    old.die()  # with the second run launched and never finished
    assert _group(runtime, gw, instant).status == "running"

    d = dispatcher(runtime, gw, FakeExecutor())
    d.start()
    try:
        assert wait_until(lambda: _group(runtime, gw, instant).status != "running", timeout=30)
    finally:
        d.stop()
    completed = _events(runtime, _group(runtime, gw, instant).id)[-1]
    assert (completed.status, completed.succeeded, completed.failed) == ("completed_with_errors", 1, 1)
    assert runtime.app.repository.get(runs[1].id).code == "INTERRUPTED"
    assert _position_of_last(runtime, completed.originator_id) == _position_of_last(runtime, runs[1].id) + 1
