"""A NOTIFY names the topics its transaction recorded, and a subscription wakes only for those it
follows, without missing one of its events (application/recorder.py)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from eventsourcing.projection import ApplicationSubscription
from eventsourcing.utils import get_topic

from application import recorder
from application.recorder import concerns, topics_payload
from application.scheduler import Scheduler
from domain.job import Job
from interfaces.database import eventsourcing_env

JOB = {"name": "w", "type": "interval", "schedule": {"interval_seconds": 60},
       "action": {"type": "publish", "topic": "t/w"}}
DEADLINE = 30.0


def test_the_payload_names_each_topic_once_and_any_topic_when_too_long() -> None:
    assert topics_payload(["b:B", "a:A", "b:B"]) == "a:A,b:B"
    assert topics_payload([f"module:Event{i}" for i in range(1000)]) == ""
    assert concerns("a:A,b:B", frozenset({"b:B"})) and not concerns("a:A,b:B", frozenset({"c:C"}))
    assert concerns("", frozenset({"c:C"})), "a NOTIFY naming nothing may hold anything"
    assert concerns("a:A", frozenset()), "a subscription to every topic wakes for any"


def _received(subscription: Any, expected: set[int]) -> list[int]:
    """Positions the subscription hands out until it has every expected one (within a deadline)."""
    received: list[int] = []
    timer = threading.Timer(DEADLINE, subscription.stop)
    timer.start()
    try:
        for _, tracking in subscription:
            received.append(tracking.notification_id)
            if expected <= set(received):
                break
    finally:
        timer.cancel()
    return received


@pytest.mark.parametrize("named", [True, False], ids=["topics named", "a writer naming none"])
def test_a_subscription_to_one_topic_gets_every_event_of_it_from_concurrent_mixed_writers(
    runtime: Any, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    if not named:
        monkeypatch.setattr(recorder, "topics_payload", lambda topics: "")
    toggled = get_topic(Job.Toggled)
    start = runtime.app.recorder.max_notification_id() or 0
    writers = [Scheduler(eventsourcing_env(runtime.url, pool_size=2)) for _ in range(3)]
    expected: set[int] = set()
    lock = threading.Lock()

    def write(app: Scheduler) -> None:
        gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
        for i in range(10):  # a create (three topics, none followed), then a toggle (followed)
            job = app.create_job(gateway_id, dict(JOB), actor="w").job
            saved = app.toggle_job(gateway_id, job.job_id, enabled=False, reason=f"r{i}", actor="w")
            with lock:
                expected.update(position for topic, position in saved.recorded if topic == toggled)

    try:
        with ApplicationSubscription(runtime.app, gt=start, topics=[toggled]) as subscription:
            threads = [threading.Thread(target=write, args=(app,)) for app in writers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            received = _received(subscription, expected)
    finally:
        for app in writers:
            app.close()
    assert len(expected) == 30
    assert sorted(received) == sorted(expected), "a followed event was missed, or another topic's handed out"


def test_subscriptions_of_one_recorder_share_one_listener_and_each_gets_its_events(runtime: Any) -> None:
    app = Scheduler(eventsourcing_env(runtime.url, pool_size=2))
    toggled, created = get_topic(Job.Toggled), get_topic(Job.Created)
    start = app.recorder.max_notification_id() or 0
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    try:
        listener = app.recorder.listener()
        follows: dict[str, list[str]] = {"toggled": [toggled], "created": [created], "any": []}
        subscriptions = {name: ApplicationSubscription(app, gt=start, topics=topics) for name, topics in follows.items()}
        try:
            assert listener.running and len(listener._subscribers) == 3
            assert not any(hasattr(s.subscription, "_listen_thread") for s in subscriptions.values())
            expected: dict[str, set[int]] = {name: set() for name in follows}
            for i in range(5):
                job = app.create_job(gateway_id, dict(JOB), actor="w")
                saved = app.toggle_job(gateway_id, job.job.job_id, enabled=False, reason=f"r{i}", actor="w")
                for topic, position in (*job.recorded, *saved.recorded):
                    expected["any"].add(position)
                    for name, topics in follows.items():
                        if topic in topics:
                            expected[name].add(position)
            for name, subscription in subscriptions.items():
                received = _received(subscription, expected[name])
                assert sorted(received) == sorted(expected[name]), name
        finally:
            for subscription in subscriptions.values():
                subscription.stop()
        deadline = threading.Event()
        for _ in range(int(DEADLINE * 10)):  # the last to leave ends the listener's thread
            if not listener.running:
                break
            deadline.wait(0.1)
        assert not listener.running
        # A later subscription starts it again, and is notified.
        with ApplicationSubscription(app, gt=app.recorder.max_notification_id(), topics=[toggled]) as again:
            job = app.create_job(gateway_id, dict(JOB), actor="w")
            saved = app.toggle_job(gateway_id, job.job.job_id, enabled=False, reason="again", actor="w")
            wanted = {position for topic, position in saved.recorded if topic == toggled}
            assert listener.running and _received(again, wanted) == sorted(wanted)
    finally:
        app.close()


def test_a_subscription_joining_a_listener_in_its_wait_hears_the_next_commit(runtime: Any) -> None:
    """The listener hands each NOTIFY to the subscribers joined when it arrives, not to those joined
    when its wait began (a projection started just before a burst once missed the burst)."""
    app = Scheduler(eventsourcing_env(runtime.url, pool_size=2))
    toggled, created = get_topic(Job.Toggled), get_topic(Job.Created)
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    try:
        with ApplicationSubscription(app, gt=app.recorder.max_notification_id(), topics=[toggled]):
            listener = app.recorder.listener()
            for _ in range(int(DEADLINE * 10)):
                if listener._listening:
                    break
                threading.Event().wait(0.1)
            for _ in range(5):  # each a fresh subscription, joined while the listener waits, then a commit
                with ApplicationSubscription(app, gt=app.recorder.max_notification_id(), topics=[created]) as late:
                    saved = app.create_job(gateway_id, dict(JOB), actor="w")
                    wanted = {position for topic, position in saved.recorded if topic == created}
                    assert _received(late, wanted) == sorted(wanted)
    finally:
        app.close()
