"""The event-store facts DESIGN.md relies on, checked on the real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest

from application.scheduler import Scheduler
from domain.errors import VersionConflict
from interfaces.database import eventsourcing_env

pytestmark = pytest.mark.slow

JOB = {"name": "w", "type": "interval", "schedule": {"interval_seconds": 60},
       "action": {"type": "publish", "topic": "t/w"}}


def test_every_event_of_concurrent_writers_reaches_a_subscription_exactly_once(runtime):
    from eventsourcing.projection import ApplicationSubscription

    assert runtime.app.env.get("POSTGRES_ENABLE_DB_FUNCTIONS") in ("n", None)
    start = runtime.app.recorder.max_notification_id() or 0
    writers = [Scheduler(eventsourcing_env(runtime.url, pool_size=2)) for _ in range(4)]
    saved: list[tuple[str, int]] = []
    lock = threading.Lock()

    def write(app: Scheduler) -> None:
        for _ in range(25):
            result = app.create_job(f"gw-{uuid.uuid4().hex[:10]}", dict(JOB), actor="w")
            with lock:
                saved.extend(result.recorded)

    received: list[int] = []
    subscription = ApplicationSubscription(runtime.app, gt=start)
    with subscription:
        threads = [threading.Thread(target=write, args=(app,)) for app in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = {position for _, position in saved}
        for _, tracking in subscription:
            received.append(tracking.notification_id)
            if expected <= set(received):
                break
    for app in writers:
        app.close()
    assert len(received) == len(set(received)), "an event arrived twice"
    mine = [p for p in received if p in expected]
    assert sorted(mine) == sorted(expected) and len(expected) == 300  # gateway created, job added, job created


def test_a_stale_conditional_write_is_a_version_conflict_and_records_nothing(runtime):
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    job = runtime.app.create_job(gateway_id, dict(JOB), actor="a").job
    runtime.app.update_job(gateway_id, job.job_id, {"name": "first"}, actor="a", expected_version=1)
    head = runtime.app.recorder.max_notification_id()
    with pytest.raises(VersionConflict):
        runtime.app.update_job(gateway_id, job.job_id, {"name": "stale"}, actor="b", expected_version=1)
    assert runtime.app.job(gateway_id, job.job_id).config.name == "first"
    assert runtime.app.recorder.max_notification_id() == head


def test_a_job_with_a_long_history_loads_from_its_snapshot(runtime):
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    job = runtime.app.create_job(gateway_id, dict(JOB), actor="a").job
    for i in range(120):
        runtime.app.toggle_job(gateway_id, job.job_id, enabled=i % 2 == 1, reason=f"r{i}", actor="a")
    snapshots = list(runtime.app.snapshots.get(job.id))
    assert snapshots, "no snapshot was taken"
    loaded = runtime.app.job(gateway_id, job.job_id)
    assert loaded.version == 121 and loaded.enabled is True and loaded.config.name == "w"
    assert loaded.config.schedule_anchor == job.config.schedule_anchor
