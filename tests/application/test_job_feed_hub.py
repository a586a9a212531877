"""Dispatchers of one process sharing one job-event subscription (JobFeedHub, decision 86)."""

from __future__ import annotations

import threading
import uuid

import pytest

from application.dispatch.job_feed import JobFeedHub
from tests.application.dispatch_support import (
    FakeExecutor,
    dispatcher,
    executions,
    wait_until,
)

pytestmark = pytest.mark.slow


def _job(runtime, gateway_id, name):
    fields = {"name": name, "type": "interval", "schedule": {"interval_seconds": 1},
              "action": {"type": "system", "operation": "health_check"}}
    return runtime.app.create_job(gateway_id, fields, actor="test").job


def _hub_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "job-feed"]


def test_dispatchers_sharing_a_hub_each_fire_only_their_gateways_jobs_created_before_and_after_start(runtime):
    a, b = f"gw-{uuid.uuid4().hex[:10]}", f"gw-{uuid.uuid4().hex[:10]}"
    before = _job(runtime, a, "before")  # read by the catch-up
    hub = JobFeedHub(runtime.app)
    fa, fb = FakeExecutor(), FakeExecutor()
    da, db = dispatcher(runtime, a, fa, feeds=hub), dispatcher(runtime, b, fb, feeds=hub)
    threads_before = len(_hub_threads())
    da.start()
    db.start()
    try:
        assert len(_hub_threads()) == threads_before + 1  # one subscription for both
        after_a, after_b = _job(runtime, a, "after-a"), _job(runtime, b, "after-b")  # live, through the hub
        jobs = lambda fake: {ctx.job_id for _, ctx in fake.calls}  # noqa: E731
        assert wait_until(lambda: jobs(fa) >= {before.job_id, after_a.job_id} and after_b.job_id in jobs(fb),
                          timeout=10)
    finally:
        da.stop()
        db.stop()
    assert jobs(fa) <= {before.job_id, after_a.job_id}
    assert jobs(fb) == {after_b.job_id}
    assert wait_until(lambda: len(_hub_threads()) == threads_before, timeout=30)  # the last feed gone: stopped
    for gw in (a, b):
        instants = [(e.job_id, e.scheduled_for) for e in executions(runtime, gw) if e.trigger == "scheduled"]
        assert len(instants) == len(set(instants))


def test_a_process_hub_gives_each_feed_its_gateways_job_events_reading_the_log_only_once(runtime, monkeypatch):
    a, b = f"gw-{uuid.uuid4().hex[:10]}", f"gw-{uuid.uuid4().hex[:10]}"
    first_a, first_b = _job(runtime, a, "a1"), _job(runtime, b, "b1")
    hub = JobFeedHub(runtime.app, keep_history=True)
    starts: list[int] = []
    select = runtime.app.recorder.select_notifications

    def counting(start, *args, **kw):
        if threading.current_thread() is threading.main_thread():  # not the read models' threads
            starts.append(start)
        return select(start, *args, **kw)

    monkeypatch.setattr(runtime.app.recorder, "select_notifications", counting)
    events_a, upto = hub.history(a)
    assert [e.job_id for e in events_a] == [first_a.job_id]
    read = len(starts)
    events_b, upto_b = hub.history(b)  # nothing new in the log: from what the first read kept
    assert [e.job_id for e in events_b] == [first_b.job_id] and upto_b == upto
    assert len(starts) == read
    second_a = _job(runtime, a, "a2")
    events_a, later = hub.history(a)
    assert [e.job_id for e in events_a] == [first_a.job_id, second_a.job_id] and later > upto
    assert min(starts[read:]) > upto  # only what came after the first read
