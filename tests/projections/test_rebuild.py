"""A full replay rebuilds the job list and gateway read models identically."""

from __future__ import annotations

from typing import Any

from projections.runner import rebuild
from tests.projections.test_execution_history import own_runtime  # noqa: F401 - a database of its own

TABLES = {
    "jobs": "SELECT * FROM jobs ORDER BY gateway_id, job_id",
    "gateways": "SELECT * FROM gateways ORDER BY gateway_id",
}


def _projection(runtime: Any, name: str) -> Any:
    return next(t.projection for t in runtime.projections if t.projection.name == name)


def test_rebuilding_job_list_and_gateways_from_zero_gives_identical_rows(own_runtime):  # noqa: F811
    runtime = own_runtime
    app = runtime.app
    base = {"type": "interval", "schedule": {"interval_seconds": 60}, "action": {"type": "publish", "topic": "t/x"}}
    for gateway_id in ("gw-rebuild-a", "gw-rebuild-b"):
        kept = app.create_job(gateway_id, {**base, "name": "kept", "tags": ["a", "b"]}, actor="t").job
        gone = app.create_job(gateway_id, {**base, "name": "gone"}, actor="t").job
        app.update_job(gateway_id, kept.job_id, {"schedule": {"interval_seconds": 30}, "tags": ["c"]}, actor="u")
        app.toggle_job(gateway_id, kept.job_id, enabled=False, reason="maintenance", actor="u")
        last = app.delete_job(gateway_id, gone.job_id, actor="u")
    runtime.wait(app.register_gateway("gw-rebuild-a", name="A", location="Hall", latitude=1.5, longitude=2.5))
    runtime.wait(last.recorded)
    before = {table: runtime.reads.all(sql) for table, sql in TABLES.items()}
    assert len(before["jobs"]) == 2 and before["gateways"][0]["location"] == "Hall"
    assert rebuild(app, _projection(runtime, "job_list")) > 0
    assert rebuild(app, _projection(runtime, "gateways")) > 0
    after = {table: runtime.reads.all(sql) for table, sql in TABLES.items()}
    assert after == before
