"""The process's tick (ProcessTick, decisions 220-222): one thread does the passes of all the
process's dispatchers and records the fires of several gateways in one transaction, each under its
own gateway's lease (its fence), so a gateway whose lease is lost stops while the others go on."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from application.dispatch.leadership import APP_NAME_PREFIX
from application.dispatch.process import DispatchProcess
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


def _job(runtime, gateway_id, name, start_at):
    fields = {"name": name, "type": "interval", "action": {"type": "system", "operation": "health_check"},
              "schedule": {"interval_seconds": 1, "start_at": start_at.isoformat().replace("+00:00", "Z")}}
    return runtime.app.create_job(gateway_id, fields, actor="test").job


def _scheduled(runtime, gateway_id):
    return [(e.job_id, e.scheduled_for) for e in executions(runtime, gateway_id) if e.trigger == "scheduled"]


def test_two_gateways_fire_from_one_thread_each_instant_once_in_shared_transactions(runtime):
    a, b = _gateway(), _gateway()
    start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)  # the same instants in both
    job_a, job_b = _job(runtime, a, "a", start_at), _job(runtime, b, "b", start_at)
    shared = DispatchProcess(runtime.app, conninfo(runtime.url))
    fa, fb = FakeExecutor(), FakeExecutor()
    da, db = dispatcher(runtime, a, fa, shared=shared), dispatcher(runtime, b, fb, shared=shared)
    da.start()
    db.start()
    try:
        assert wait_until(lambda: len(fa.calls) >= 4 and len(fb.calls) >= 4, timeout=30)
        names = {t.name for t in threading.enumerate()}
        assert "dispatch-tick" in names
        assert not any(n.startswith("dispatch-gw-") for n in names)  # no dispatch loop of their own
        assert shared.commits.records > shared.commits.transactions  # records of both shared transactions
    finally:
        da.stop()
        db.stop()
        shared.stop()
    assert {ctx.job_id for _, ctx in fa.calls} == {job_a.job_id}
    assert {ctx.job_id for _, ctx in fb.calls} == {job_b.job_id}
    for gw in (a, b):
        instants = _scheduled(runtime, gw)
        assert len(instants) >= 4 and len(instants) == len(set(instants))
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:  # each under its own gateway's name
        rows = conn.execute("SELECT gateway_id, count(*) FROM dispatch_checkpoints WHERE gateway_id = ANY(%s)"
                            " GROUP BY gateway_id", ([a, b],)).fetchall()
    assert dict(rows) == {a: 1, b: 1}


def test_a_gateway_whose_lease_is_lost_stops_firing_while_the_other_goes_on(runtime):
    a, b = _gateway(), _gateway()
    start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    _job(runtime, a, "a", start_at)
    _job(runtime, b, "b", start_at)
    shared = DispatchProcess(runtime.app, conninfo(runtime.url))
    fa, fb = FakeExecutor(), FakeExecutor()
    da, db = dispatcher(runtime, a, fa, shared=shared), dispatcher(runtime, b, fb, shared=shared)
    da.start()
    db.start()
    # Another holder, connected (so its lease is not takeable), takes gateway a's lease.
    thief = psycopg.connect(conninfo(runtime.url), autocommit=True, application_name=APP_NAME_PREFIX + "thief")
    try:
        assert wait_until(lambda: len(fa.calls) >= 2 and len(fb.calls) >= 2, timeout=30)
        thief.execute("UPDATE dispatch_leases SET term = term + 1, holder = 'thief',"
                      " expires_at = now() + interval '1 hour' WHERE gateway_id = %s", (a,))
        assert wait_until(lambda: not da.leadership.held, timeout=30)
        recorded_a, calls_a = len(_scheduled(runtime, a)), len(fa.calls)
        recorded_b = len(_scheduled(runtime, b))
        assert wait_until(lambda: len(_scheduled(runtime, b)) >= recorded_b + 3, timeout=30)
        assert db.leadership.held
        assert len(_scheduled(runtime, a)) == recorded_a  # none of a's fires recorded without its lease
        assert not da.leadership.held and len(fa.calls) == calls_a  # nor started
    finally:
        da.stop()
        db.stop()
        shared.stop()
        thief.close()
    instants = _scheduled(runtime, b)
    assert len(instants) == len(set(instants))
    assert calls_a <= recorded_a  # a run starts only once recorded


def test_a_pass_takes_at_most_its_share_of_the_fires_due_but_never_splits_an_instant():
    from application.dispatch.due_index import Due, DueIndex

    index = DueIndex(lambda: 0.0)
    at = datetime(2027, 1, 1, tzinfo=UTC)
    for i in range(3):  # three runs due at one instant, then two at each of the next instants
        index.push(Due(at, 0, f"j{i}", kind="manual"))
    for k in (1, 2):
        for i in range(2):
            index.push(Due(at + timedelta(seconds=k), 0, f"k{k}{i}", kind="manual"))
    now = at + timedelta(seconds=5)
    assert [d.job_id for d in index.pop_due(now, limit=2)] == ["j0", "j1", "j2"]  # the instant whole
    assert [d.job_id for d in index.pop_due(now, limit=1)] == ["k10", "k11"]
    assert [d.job_id for d in index.pop_due(now)] == ["k20", "k21"]
    assert index.pop_due(now, limit=5) == []
