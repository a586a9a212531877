"""A dispatcher that cannot record outcomes shows it: /readyz answers 503 naming it, /metrics
counts the failed writes and the outcomes waiting (the writer's own behaviour is in
tests/application/test_launcher_and_writer.py)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from eventsourcing.persistence import OperationalError

from tests.interfaces.test_job_runs import worker_api  # noqa: F401 - a real worker in a gateway of its own
from tests.interfaces.test_metrics import samples, value


class _DatabaseAway:
    def record(self, *_, **__):
        raise OperationalError("server closed the connection unexpectedly")


def test_readiness_and_metrics_show_outcomes_that_cannot_be_recorded(http, runtime, worker_api):  # noqa: F811
    gateway = worker_api.gateway_id
    writer = runtime.workers[gateway].dispatcher.writer
    real_app = writer.app
    assert http.get("/readyz").status_code == 200
    writer.app = _DatabaseAway()
    try:
        from application.dispatch.outcomes import Outcome
        from domain.options import JobOptions

        class _Run:
            id = execution_id = "never-recorded"
            modified_on = datetime.now(timezone.utc)

        writer.put(Outcome(_Run(), False, JobOptions(), "job_x"))  # type: ignore[arg-type]
        writer.flush()
        assert writer.failures == 1 and writer.pending == 1
        writer.failing_since = time.monotonic() - 11  # as if the database had been away for 11 s
        answer = http.get("/readyz")
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert f"dispatcher of {gateway}" in answer.json()["message"]
        found = samples(http)
        assert value(found, "gateway_scheduler_outcome_write_failures_total", gateway_id=gateway) == 1
        assert value(found, "gateway_scheduler_outcomes_pending", gateway_id=gateway) == 1
    finally:
        writer.app = real_app
        writer._pending.clear()
        writer.failing_since = None
    assert http.get("/readyz").status_code == 200
