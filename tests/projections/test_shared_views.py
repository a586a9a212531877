"""Two processes may run the same projection on the same tables (API replicas): an event the other
has already recorded is skipped whole, never applied twice."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from projections.job_list import JobListProjection, JobListView
from tests.projections.execution_events import BASE, save, succeeded
from tests.projections.test_execution_history import job_row, new_job


def test_an_event_already_recorded_by_another_runner_is_skipped_whole(runtime):
    gateway_id, job_id = new_job(runtime)
    recorded = save(runtime, succeeded(gateway_id, job_id, BASE, 250))
    (position,) = [p for t, p in recorded if t.endswith("Execution.Succeeded")]
    before = job_row(runtime, gateway_id, job_id)
    assert (before["total_executions"], before["total_duration_ms"]) == (1, 250)
    # Applied again, the outcome would count the execution twice: the counters prove it was not.
    twin = JobListProjection(JobListView(runtime.projections[0].view.datastore))
    notification = runtime.app.recorder.select_notifications(position, 1)[0]
    twin.process_event(runtime.app.mapper.to_domain_event(notification), Tracking(runtime.app.name, position))
    assert job_row(runtime, gateway_id, job_id) == before
