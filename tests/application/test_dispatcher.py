"""The dispatcher against the real PostgreSQL: on-time fires, exactly once, policies."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from application.dispatch.process import DispatchProcess
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


def _job(runtime, gateway_id, **over):
    fields = {
        "name": "tick", "type": "interval", "schedule": {"interval_seconds": 1},
        "action": {"type": "system", "operation": "health_check"}, **over,
    }
    return runtime.app.create_job(gateway_id, fields, actor="test").job


def test_interval_job_fires_by_itself_on_time_repeatedly(runtime):
    gw = _gateway()
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        _job(runtime, gw)
        assert wait_until(lambda: len(fake.calls) >= 3, timeout=30)
    finally:
        d.stop()
    runs = [e for e in executions(runtime, gw) if e.trigger == "scheduled"]
    assert len(runs) >= 3
    instants = sorted(e.scheduled_for for e in runs)
    assert all((b - a).total_seconds() == 1 for a, b in zip(instants, instants[1:]))
    lateness = [started - ctx.now.timestamp() for started, ctx in fake.calls]
    starts = {ctx.execution_id: ts for ts, ctx in fake.calls}
    for e in runs:
        if e.execution_id in starts:
            assert starts[e.execution_id] - e.scheduled_for.timestamp() < 0.5
    assert all(x < 0.5 for x in lateness)
    assert all(e.status == "success" for e in runs if e.execution_id in starts and e.status != "running")


def test_disabled_job_is_not_dispatched(runtime):
    gw = _gateway()
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        job = _job(runtime, gw, enabled=False)
        time.sleep(2.5)
        assert fake.calls == []
        runtime.app.toggle_job(gw, job.job_id, enabled=True, reason="", actor="t")
        assert wait_until(lambda: len(fake.calls) >= 1, timeout=30)
        runtime.app.toggle_job(gw, job.job_id, enabled=False, reason="stop", actor="t")
        time.sleep(0.3)
        count = len(fake.calls)
        time.sleep(2.0)
        assert len(fake.calls) == count
    finally:
        d.stop()


@pytest.mark.parametrize("shared", [False, True], ids=["own-parts", "process-parts"])
def test_two_replicas_fire_each_instant_exactly_once_and_a_dead_leader_is_replaced(runtime, shared):
    gw = _gateway()
    a_exec, b_exec = FakeExecutor(), FakeExecutor()
    # process-parts: each replica with the parts a worker process shares (DispatchProcess), as two processes
    parts = [DispatchProcess(runtime.app, conninfo(runtime.url)) if shared else None for _ in range(2)]
    a, b = dispatcher(runtime, gw, a_exec, shared=parts[0]), dispatcher(runtime, gw, b_exec, shared=parts[1])
    a.start()
    b.start()
    try:
        _job(runtime, gw)
        assert wait_until(lambda: len(a_exec.calls) + len(b_exec.calls) >= 4, timeout=30)
        leader, follower, follower_exec = (a, b, b_exec) if a.leadership.held else (b, a, a_exec)
        before = len(follower_exec.calls)
        leader.stop()
        assert wait_until(lambda: len(follower_exec.calls) >= before + 2, timeout=30)
    finally:
        a.stop()
        b.stop()
        for part in parts:
            if part is not None:
                part.stop()
    runs = [e for e in executions(runtime, gw) if e.trigger in ("scheduled", "misfire")]
    per_instant = Counter(e.scheduled_for for e in runs)
    assert per_instant and max(per_instant.values()) == 1
    ids = [ctx.execution_id for _, ctx in a_exec.calls + b_exec.calls]
    assert len(ids) == len(set(ids))


def test_an_execution_past_its_timeout_fails_with_execution_timeout(runtime):
    """The executor keeps the run's deadline (as the MQTT, system and file executors do) and
    reports EXECUTION_TIMEOUT: the run is `timeout`. (A success past the deadline stays a success:
    tests/application/test_outcomes.py, decision 292.)"""
    from application.executors.log import ExecutionLog
    from application.executors.ports import EXECUTION_TIMEOUT, ExecutionResult

    def gives_up_at_its_deadline(ctx, n):
        time.sleep(max(0.0, ctx.deadline() - time.monotonic()))  # 1.2 s of work would not fit
        return ExecutionResult.failure(f"not done within {ctx.timeout_seconds:g} s", ExecutionLog(),
                                       error_code=EXECUTION_TIMEOUT)

    gw = _gateway()
    fake = FakeExecutor(gives_up_at_its_deadline)
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        _job(runtime, gw, schedule={"interval_seconds": 5}, options={"timeout_seconds": 0.3})
        assert wait_until(lambda: any(e.status == "timeout" for e in executions(runtime, gw)), timeout=30)
    finally:
        d.stop()


def test_a_failing_action_is_retried_with_backoff_and_carries_its_retry_count(runtime):
    from application.executors.log import ExecutionLog
    from application.executors.ports import ExecutionResult

    def flaky(ctx, n):
        if n < 3:
            return ExecutionResult.failure(f"attempt {n} failed", ExecutionLog())
        return ExecutionResult.success("third time lucky", ExecutionLog())

    gw = _gateway()
    fake = FakeExecutor(flaky)
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        _job(runtime, gw, schedule={"interval_seconds": 60},
             options={"max_attempts": 3, "backoff_seconds": 0.2, "misfire_policy": "skip"})
        job_id = runtime.app.gateway(gw).job_ids[0]
        runtime.app.request_run(gw, job_id, parameters={}, force=False, actor="t")
        assert wait_until(lambda: any(e.status == "success" for e in executions(runtime, gw)), timeout=30)
    finally:
        d.stop()
    (run,) = [e for e in executions(runtime, gw) if e.trigger == "manual"]
    assert run.attempt == 3 and run.status == "success"
    attempts = [ts for ts, ctx in fake.calls if ctx.execution_id == run.execution_id]
    assert len(attempts) == 3 and attempts[1] - attempts[0] >= 0.2 and attempts[2] - attempts[1] >= 0.4


def test_a_job_updated_mid_flight_fires_on_its_new_schedule_from_then_on(runtime):
    gw = _gateway()
    fake = FakeExecutor()
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        job = _job(runtime, gw)
        assert wait_until(lambda: len(fake.calls) >= 2, timeout=30)
        saved = runtime.app.update_job(gw, job.job_id, {"schedule": {"interval_seconds": 2}}, actor="t")
        changed_at = saved.job.configured_at
        assert wait_until(lambda: sum(1 for ts, _ in fake.calls if ts > changed_at.timestamp()) >= 2, timeout=30)
    finally:
        d.stop()
    after = sorted(e.scheduled_for for e in executions(runtime, gw) if e.scheduled_for and e.scheduled_for > changed_at)
    assert after and after[0] == changed_at + timedelta(seconds=2)
    assert all((b - a).total_seconds() == 2 for a, b in zip(after, after[1:]))


def test_a_run_waiting_for_its_next_attempt_is_closed_when_its_job_is_deleted(runtime):
    from application.executors.log import ExecutionLog
    from application.executors.ports import ExecutionResult

    gw = _gateway()
    fake = FakeExecutor(lambda ctx, n: ExecutionResult.failure(f"attempt {n} failed", ExecutionLog()))
    d = dispatcher(runtime, gw, fake)
    d.start()
    try:
        # The backoff leaves the deletion time to reach the dispatcher before the next attempt is
        # due, also on a loaded machine (at 1.5 s it once lost that race: a second attempt ran).
        job = _job(runtime, gw, schedule={"interval_seconds": 3600},
                   options={"max_attempts": 3, "backoff_seconds": 5, "misfire_policy": "skip"})
        runtime.app.request_run(gw, job.job_id, parameters={}, force=False, actor="t")
        assert wait_until(lambda: any(e.status == "retrying" for e in executions(runtime, gw)), timeout=30)
        runtime.app.delete_job(gw, job.job_id, actor="t")
        assert wait_until(lambda: all(e.finished for e in executions(runtime, gw)), timeout=30)
    finally:
        d.stop()
    (run,) = executions(runtime, gw)
    assert run.status == "failed" and run.code == "CANCELLED"
    assert len(fake.calls) == 1 and not d.live  # not attempted again, and nothing left in flight


def test_a_run_requested_while_the_dispatcher_takes_the_lease_over_runs(runtime):
    # The request reaches the job feed after the pass's first drain (not leading yet) and before
    # the takeover's drain (leading): it once went into the index that the takeover then cleared.
    gw = _gateway()
    fake = FakeExecutor()
    job = _job(runtime, gw, schedule={"interval_seconds": 3600})
    d = dispatcher(runtime, gw, fake)
    acquire = d.leadership.try_acquire

    def acquire_then_request() -> bool:
        taken = acquire()
        if taken and not fake.calls:
            runtime.app.request_run(gw, job.job_id, parameters={}, force=False, actor="t")
            assert wait_until(lambda: d.feed._inbox.qsize() > 0, timeout=30)  # delivered, not yet drained
        return taken

    d.leadership.try_acquire = acquire_then_request
    d.start()
    try:
        assert wait_until(lambda: any(e.trigger == "manual" and e.finished for e in executions(runtime, gw)), timeout=30)
    finally:
        d.stop()
    assert [ctx.execution_id for _, ctx in fake.calls] == [e.execution_id for e in executions(runtime, gw)]


def test_a_run_requested_then_unrecorded_when_the_lease_is_lost_runs_once_it_leads_again(runtime):
    # The leader took the request into its index, its record failed (the database away), and the
    # lease was lost before it could record it again: stepping down cleared the index, and the run
    # must not go with it when this same process leads again (a PostgreSQL restart, one worker).
    gw = _gateway()
    fake = FakeExecutor()
    job = _job(runtime, gw, schedule={"interval_seconds": 3600})
    d = dispatcher(runtime, gw, fake)
    save_fires, keep = d.store.save_fires, d.leadership.keep
    failed = []

    def save_fails_once_for_the_manual_run(executions, *args):
        if not failed and any(e.trigger == "manual" for e in executions):
            failed.append(True)
            raise ConnectionError("the database went away")
        return save_fires(executions, *args)

    def lease_lost_after_the_failure() -> bool:
        if failed == [True]:
            failed.append(True)
            return False
        return keep()

    d.store.save_fires = save_fails_once_for_the_manual_run
    d.leadership.keep = lease_lost_after_the_failure
    d.start()
    try:
        assert wait_until(lambda: d.leadership.held, timeout=30)
        runtime.app.request_run(gw, job.job_id, parameters={}, force=False, actor="t")
        assert wait_until(lambda: any(e.trigger == "manual" and e.finished for e in executions(runtime, gw)), timeout=30)
    finally:
        d.stop()
    assert failed == [True, True]  # the record failed and the lease was lost, in that order
    assert [e.trigger for e in executions(runtime, gw)] == ["manual"] and len(fake.calls) == 1


def test_a_follower_keeps_the_manual_runs_of_the_last_hour_only(runtime):
    # Every follower keeps the runs asked for while it does not lead, to start them should it lead;
    # it used to keep them all for as long as it followed (a replica's memory, growing for ever).
    from datetime import UTC, datetime

    gw = _gateway()
    job = _job(runtime, gw, schedule={"interval_seconds": 3600})
    now = [datetime.now(UTC)]
    d = dispatcher(runtime, gw, FakeExecutor(), clock=lambda: now[0])
    d.leadership.try_acquire = lambda: False  # another replica leads
    d.start()
    try:
        first, _ = runtime.app.request_run(gw, job.job_id, parameters={}, force=False, actor="t")
        assert wait_until(lambda: list(d.pending_runs) == [first], timeout=30)
        asked = d.pending_runs[first].fire_at  # when the first was asked for (its event's time)
        time.sleep(0.5)  # not a wait for the dispatcher: it puts 0.5 s between the two requests' times
        now[0] = asked + timedelta(hours=1, seconds=0.25)  # the first is past the hour, the second not
        second, _ = runtime.app.request_run(gw, job.job_id, parameters={}, force=False, actor="t")
        assert wait_until(lambda: second in d.pending_runs, timeout=30)
        assert list(d.pending_runs) == [second]
    finally:
        d.stop()
