"""What the dispatchers of one process share (DispatchProcess, decisions 96-97): one lease
renewal statement for all their leases, and their records committed together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from application.dispatch.leadership import Leadership
from application.dispatch.process import DispatchProcess
from application.dispatch.process_commits import ProcessCommits
from application.dispatch.store import FENCE, StaleTerm
from domain.execution import Execution
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


def _job(runtime, gateway_id, name):
    fields = {"name": name, "type": "interval", "schedule": {"interval_seconds": 1},
              "action": {"type": "system", "operation": "health_check"}}
    return runtime.app.create_job(gateway_id, fields, actor="test").job


def _run(gateway_id: str) -> Execution:
    return Execution.start(gateway_id=gateway_id, job_id="j", execution_id=uuid.uuid4().hex, job_name="j",
                           trigger="manual", scheduled_for=None, now=datetime.now(UTC))


def _expires_at(runtime, gateway_id):
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        return conn.execute("SELECT expires_at FROM dispatch_leases WHERE gateway_id = %s", (gateway_id,)).fetchone()[0]


def test_dispatchers_of_one_process_fire_their_own_jobs_with_their_leases_renewed_together(runtime):
    a, b = _gateway(), _gateway()
    job_a, job_b = _job(runtime, a, "a"), _job(runtime, b, "b")
    shared = DispatchProcess(runtime.app, conninfo(runtime.url))
    fa, fb = FakeExecutor(), FakeExecutor()
    da, db = dispatcher(runtime, a, fa, shared=shared), dispatcher(runtime, b, fb, shared=shared)
    da.start()
    db.start()
    try:
        assert wait_until(lambda: da.leadership.held and db.leadership.held, timeout=30)
        first = (_expires_at(runtime, a), _expires_at(runtime, b))
        rounds = shared.leases.rounds
        assert wait_until(lambda: shared.leases.rounds >= rounds + 2, timeout=30)
        assert _expires_at(runtime, a) > first[0] and _expires_at(runtime, b) > first[1]
        assert da.leadership.valid() and db.leadership.valid()
        assert wait_until(lambda: len(fa.calls) >= 3 and len(fb.calls) >= 3, timeout=30)
    finally:
        da.stop()
        db.stop()
        shared.stop()
    assert {ctx.job_id for _, ctx in fa.calls} == {job_a.job_id}
    assert {ctx.job_id for _, ctx in fb.calls} == {job_b.job_id}
    assert shared.commits.records > 0  # fires and outcomes went through the process's committer
    for gw in (a, b):
        instants = [(e.job_id, e.scheduled_for) for e in executions(runtime, gw) if e.trigger == "scheduled"]
        assert len(instants) == len(set(instants))


def test_a_lease_taken_over_by_another_ends_the_term_its_keeper_renewed(runtime):
    gw = _gateway()
    shared = DispatchProcess(runtime.app, conninfo(runtime.url))
    d = dispatcher(runtime, gw, FakeExecutor(), shared=shared)
    d.start()
    other = Leadership(conninfo(runtime.url), gw)
    try:
        assert wait_until(lambda: d.leadership.held, timeout=30)
        old = d.leadership.term
        with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:  # as if it had gone silent
            conn.execute("UPDATE dispatch_leases SET expires_at = now() - interval '1 second' WHERE gateway_id = %s", (gw,))
        assert other.try_acquire()
        assert other.term == old + 1
        assert wait_until(lambda: d.leadership.term != old, timeout=30)  # stepped down (or led again, later)
        with pytest.raises(StaleTerm):
            d.store.save([_run(gw)], [d.store.fence(old)])
    finally:
        other.close()
        d.stop()
        shared.stop()


def test_records_committed_together_each_keep_their_own_outcome(runtime):
    a, b = _gateway(), _gateway()
    lead_a, lead_b = Leadership(conninfo(runtime.url), a), Leadership(conninfo(runtime.url), b)
    assert lead_a.try_acquire() and lead_b.try_acquire()
    commits = DispatchProcess(runtime.app, conninfo(runtime.url)).commits
    try:
        together = [_run(a), _run(b)]
        outcomes = commits.commit([([together[0]], [(FENCE, [(a, lead_a.term)])]),
                                   ([together[1]], [(FENCE, [(b, lead_b.term)])])])
        assert outcomes == [None, None]
        assert commits.transactions == 1
        recorded = {e.id for e in executions(runtime, a) + executions(runtime, b)}
        assert {e.id for e in together} <= recorded

        stale, fine = _run(a), _run(b)
        outcomes = commits.commit([([stale], [(FENCE, [(a, lead_a.term + 1)])]),
                                   ([fine], [(FENCE, [(b, lead_b.term)])]),
                                   ([_run(b)], [])])
        assert outcomes[0] is not None and "stale dispatch term" in str(outcomes[0])
        assert outcomes[1:] == [None, None]
        recorded = {e.id for e in executions(runtime, a) + executions(runtime, b)}
        assert fine.id in recorded and stale.id not in recorded
        assert stale.pending_events  # not recorded: it can be saved again as it was
    finally:
        lead_a.close()
        lead_b.close()


def test_a_duplicate_record_among_others_fails_alone(runtime):
    gw = _gateway()
    commits = DispatchProcess(runtime.app, conninfo(runtime.url)).commits
    first = _run(gw)
    assert commits.commit([([first], [])]) == [None]
    again = Execution.start(gateway_id=gw, job_id="j", execution_id=first.execution_id, job_name="j",
                            trigger="manual", scheduled_for=None, now=datetime.now(UTC))
    other = _run(gw)
    outcomes = commits.commit([([again], []), ([other], [])])
    assert isinstance(outcomes[0], IntegrityError)
    assert outcomes[1] is None
    assert other.id in {e.id for e in executions(runtime, gw)}


def test_a_renewal_does_not_wait_for_a_fenced_write_in_flight_but_a_takeover_does(runtime):
    gw = _gateway()
    lead = Leadership(conninfo(runtime.url), gw)
    assert lead.try_acquire()
    with psycopg.connect(conninfo(runtime.url)) as writer, psycopg.connect(conninfo(runtime.url), autocommit=True) as other:
        other.execute("SET lock_timeout = '500ms'")
        writer.execute(FENCE, (gw, lead.term))  # a fire transaction of this term, not yet committed
        renewed = other.execute(
            "UPDATE dispatch_leases SET expires_at = now() + interval '3 seconds'"
            " WHERE gateway_id = %s AND term = %s RETURNING term", (gw, lead.term)).fetchone()
        assert renewed == (lead.term,)
        with pytest.raises(psycopg.errors.LockNotAvailable):  # the term moves only once the write ended
            other.execute("UPDATE dispatch_leases SET term = term + 1 WHERE gateway_id = %s", (gw,))
        writer.commit()
        assert other.execute("UPDATE dispatch_leases SET term = term + 1 WHERE gateway_id = %s RETURNING term",
                             (gw,)).fetchone() == (lead.term + 1,)
        with pytest.raises(psycopg.Error, match="stale dispatch term"):
            writer.execute(FENCE, (gw, lead.term))
    lead.close()


class _FailingApp:
    """An application whose record raises `error` for any record holding `bad` (every record: None)."""

    def __init__(self, error: Exception, bad: object = None) -> None:
        self.error, self.bad, self.calls = error, bad, 0

    def record(self, aggregates, *, positions=True, side_statements=None):
        self.calls += 1
        if self.bad is None or self.bad in aggregates:
            raise self.error


def test_with_the_database_away_every_record_of_a_batch_gets_its_error_at_once():
    app = _FailingApp(OperationalError("server closed the connection"))
    outcomes = ProcessCommits(app).commit([(["a"], []), (["b"], []), (["c"], [])])
    assert [type(o) for o in outcomes] == [OperationalError] * 3
    assert app.calls == 1  # not tried again one by one


def test_a_record_refused_by_the_store_is_retried_alone_and_only_it_fails():
    app = _FailingApp(IntegrityError("duplicate key"), bad="b")
    outcomes = ProcessCommits(app).commit([(["a"], []), (["b"], []), (["c"], [])])
    assert outcomes[0] is None and isinstance(outcomes[1], IntegrityError) and outcomes[2] is None
    assert app.calls == 4  # the batch, then each alone
