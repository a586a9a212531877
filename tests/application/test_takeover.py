"""Leadership terms and what a new leader does with the runs another left in flight, against the
real PostgreSQL: fenced writes, never-launched runs launched, launched ones closed only once their
holder is gone or their timeout has passed, late outcomes reconciled alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from application.dispatch.leadership import Leadership
from application.dispatch.outcome_writer import OutcomeWriter
from application.dispatch.outcomes import Outcome
from application.dispatch.store import DispatchStore, StaleTerm
from domain.execution import Execution
from domain.options import JobOptions
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


def _job(runtime, gateway_id: str, **options) -> str:
    fields = {"name": "hourly", "type": "interval", "schedule": {"interval_seconds": 3600},
              "action": {"type": "system", "operation": "health_check"}, "options": options}
    return runtime.app.create_job(gateway_id, fields, actor="t").job.job_id


class FormerLeader:
    """A dispatcher's durable footprint without its loop: it leads, records a manual run, maybe
    marks it launched, then vanishes (session closed: dead) or stays connected (paused)."""

    def __init__(self, runtime, gateway_id: str) -> None:
        self.runtime, self.gateway_id = runtime, gateway_id
        self.lead = Leadership(conninfo(runtime.url), gateway_id)
        assert self.lead.try_acquire()
        self.store = DispatchStore(runtime.app, conninfo(runtime.url), gateway_id, self.lead.holder)

    def record_run(self, job_id: str, *, launched: bool) -> Execution:
        execution = Execution.start(
            gateway_id=self.gateway_id, job_id=job_id, execution_id=f"exec_{uuid.uuid4().hex[:8]}", job_name="hourly",
            trigger="manual", scheduled_for=None, now=datetime.now(UTC), max_attempts=2,
        )
        assert self.lead.term is not None
        self.store.save([execution], self.store.fire_side([execution], self.lead.term, datetime.now(UTC), {}))
        if launched:
            assert self.store.mark_launched([execution.id], self.lead.term) == {execution.id}
        return execution

    def expire(self) -> None:
        """Its lease runs out while it stays connected (a paused process)."""
        with psycopg.connect(conninfo(self.runtime.url), autocommit=True) as conn:
            conn.execute("UPDATE dispatch_leases SET expires_at = now() - interval '1 second' WHERE gateway_id = %s",
                         (self.gateway_id,))

    def die(self) -> None:
        self.lead._disconnect()
        self.store.close()


def _one(runtime, gateway_id: str) -> Execution:
    (execution,) = executions(runtime, gateway_id)
    return execution


def test_a_former_leader_cannot_record_fires_or_launch_once_its_term_has_ended(runtime):
    gw = _gateway()
    job_id = _job(runtime, gw)
    old = FormerLeader(runtime, gw)
    old.expire()
    new = Leadership(conninfo(runtime.url), gw)
    try:
        assert new.try_acquire() and new.term == (old.lead.term or 0) + 1
        with pytest.raises(StaleTerm):
            old.record_run(job_id, launched=False)
        assert executions(runtime, gw) == []  # nothing of the refused write was recorded
        with pytest.raises(StaleTerm):
            old.store.mark_launched([uuid.uuid4()], new.term - 1)
        assert wait_until(lambda: old.lead.keep() is False, timeout=30)  # at its next renewal
        assert old.lead.term is None and not old.lead.valid()
    finally:
        new.release()
        old.die()


def test_a_run_recorded_but_never_launched_is_launched_by_the_next_leader(runtime):
    gw = _gateway()
    job_id = _job(runtime, gw, max_attempts=2)
    old = FormerLeader(runtime, gw)
    run = old.record_run(job_id, launched=False)
    old.die()
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        assert wait_until(lambda: _one(runtime, gw).status == "success", timeout=30)
    finally:
        d.stop()
    assert [ctx.execution_id for _, ctx in fake.calls] == [run.execution_id]


def test_a_launched_run_of_a_dead_holder_is_closed_as_interrupted_and_not_run_again(runtime):
    gw = _gateway()
    job_id = _job(runtime, gw, max_attempts=3)
    old = FormerLeader(runtime, gw)
    old.record_run(job_id, launched=True)
    old.die()
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        assert wait_until(lambda: _one(runtime, gw).status == "failed", timeout=30)
    finally:
        d.stop()
    closed = _one(runtime, gw)
    assert closed.code == "INTERRUPTED" and fake.calls == []


def test_a_launched_run_of_a_paused_holder_is_left_to_it_until_its_timeout_has_passed(runtime):
    gw = _gateway()
    job_id = _job(runtime, gw, timeout_seconds=1)
    old = FormerLeader(runtime, gw)
    run = old.record_run(job_id, launched=True)
    old.expire()  # paused: still connected, silent
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        assert wait_until(lambda: d.leadership.held, timeout=30)
        # Within its timeout (+ margin) the paused holder may still finish it: it stays running,
        # and the holder's own outcome is recorded when it comes.
        assert _one(runtime, gw).status == "running"
        assert wait_until(lambda: _one(runtime, gw).status == "failed", timeout=30)
    finally:
        d.stop()
        old.die()
    closed = _one(runtime, gw)
    assert closed.code == "INTERRUPTED" and "after its timeout" in _error(runtime, run)
    assert fake.calls == []


def _error(runtime, run: Execution) -> str:
    events = list(runtime.app.events.get(run.id))
    return events[-1].error


def test_an_outcome_of_a_run_closed_meanwhile_is_dropped_alone_and_the_others_are_recorded(runtime):
    gw = _gateway()
    job_id = _job(runtime, gw)
    old = FormerLeader(runtime, gw)
    closed, other = old.record_run(job_id, launched=True), old.record_run(job_id, launched=True)
    late = runtime.app.repository.get(closed.id)  # the holder's copy, before the takeover closed it
    taken = runtime.app.repository.get(closed.id)
    taken.interrupt(now=datetime.now(UTC))
    runtime.app.record([taken])
    writer = OutcomeWriter(runtime.app)
    for execution in (late, other):
        execution.succeed(now=datetime.now(UTC), duration_ms=5, message="ok", logs=[])
        writer.put(Outcome(execution, False, JobOptions(), job_id))
    flushed = writer.flush()
    old.die()
    assert [o.execution.id for o in flushed.recorded] == [other.id]
    assert [o.execution.id for o in flushed.dropped] == [closed.id]
    assert writer.flush().recorded == []  # nothing is retried for ever
    by_id = {e.id: e for e in executions(runtime, gw)}
    assert by_id[closed.id].code == "INTERRUPTED" and by_id[other.id].status == "success"
    assert writer.health()[0] and writer.reconciled == 1
