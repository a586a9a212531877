"""The overlap decision against the real PostgreSQL: a job is busy while a run of it executes,
and free as soon as that run has ended, even while its outcome waits to be recorded."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from application.dispatch.planner import OVERLAP_SKIPPED
from application.dispatch.process import DispatchProcess
from application.executors.log import ExecutionLog
from application.executors.ports import ExecutionResult
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shared", [False, True], ids=["own-parts", "process-parts"])
def test_a_job_is_busy_while_its_run_executes_and_free_once_it_ended_before_its_outcome_is_recorded(runtime, shared):
    gw = f"gw-{uuid.uuid4().hex[:10]}"
    release = threading.Event()

    def first_blocks(ctx, n):
        if not release.is_set():
            release.wait(60)
        return ExecutionResult.success("ok", ExecutionLog())

    fake = FakeExecutor(first_blocks)
    parts = DispatchProcess(runtime.app, conninfo(runtime.url)) if shared else None
    d = dispatcher(runtime, gw, fake, shared=parts)
    held = threading.Event()
    if shared:  # the process's tick records the outcomes it takes: none is taken
        take = d.writer.take
        d.writer.take = lambda: None if held.is_set() else take()
    else:  # its own loop's writer: each record fails, as if the database were away
        record = d.writer._put

        def record_unless_held(*args, **kwargs):
            if held.is_set():
                raise psycopg.OperationalError("the database is away (test)")
            return record(*args, **kwargs)

        d.writer._put = record_unless_held
    d.start()
    try:
        runtime.app.create_job(gw, {"name": "tick", "type": "interval", "schedule": {"interval_seconds": 1},
                                          "action": {"type": "system", "operation": "health_check"}}, actor="t").job
        assert wait_until(lambda: len(fake.calls) == 1, timeout=30)
        first = fake.calls[0][1].execution_id
        # The term ends while the run executes; the same dispatcher leads again (a new term) and
        # carries the run on: its job is still busy, its next instants are skipped.
        term = d.leadership.term
        with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
            conn.execute("UPDATE dispatch_leases SET term = term + 1 WHERE gateway_id = %s", (gw,))
        assert wait_until(lambda: (d.leadership.term or 0) > term + 1, timeout=30)
        assert wait_until(lambda: any(e.status == "missed" and e.reason == OVERLAP_SKIPPED
                                      for e in executions(runtime, gw)), timeout=30)
        assert len(fake.calls) == 1
        # The run ends; its outcome cannot be recorded (as if the database were away): the job is
        # free all the same, and its next instant runs instead of being skipped.
        held.set()
        release.set()
        assert wait_until(lambda: len(fake.calls) >= 2, timeout=30)
        held.clear()
        assert wait_until(lambda: all(e.finished for e in executions(runtime, gw)), timeout=30)
    finally:
        release.set()
        held.clear()
        d.stop()
        if parts is not None:
            parts.stop()
    found = executions(runtime, gw)
    runs = {e.execution_id: e for e in found if e.status != "missed"}
    assert runs[first].status == "success"
    assert sorted(runs) == sorted({ctx.execution_id for _, ctx in fake.calls})  # each run recorded once
    assert len({e.scheduled_for for e in found}) == len(found)  # no instant twice
