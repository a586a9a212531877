"""Two processes may run the same projection on the same tables (API replicas): an event the other
has already recorded is skipped whole, never applied twice."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from projections.job_list import JobListProjection, JobListView


def test_an_event_already_recorded_by_another_runner_is_skipped_whole(runtime):
    saved = runtime.app.create_job("gw-shared-view", {
        "name": "s", "type": "interval", "schedule": {"interval_seconds": 60},
        "action": {"type": "publish", "topic": "t/s"}}, actor="t")
    runtime.wait(saved.recorded)
    (topic, position), = [(t, p) for t, p in saved.recorded if t.endswith("Job.Created")]
    before = runtime.reads.all("SELECT * FROM jobs WHERE gateway_id = 'gw-shared-view'")
    twin = JobListProjection(JobListView(runtime.projections[0].view.datastore))
    notification = runtime.app.recorder.select_notifications(position, 1)[0]
    twin.process_event(runtime.app.mapper.to_domain_event(notification), Tracking(runtime.app.name, position))
    assert runtime.reads.all("SELECT * FROM jobs WHERE gateway_id = 'gw-shared-view'") == before
