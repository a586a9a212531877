"""`gateway-scheduler projections verify` and `events` (the raw log) in subprocesses, on a
database of their own, while a runtime projects into it: clean after normal use (jobs, edits,
toggles, a revert, a delete, executions), exit 1 naming the table after a read-model row is
tampered with, clean again once it is put back."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from application.commands import CommandContext, RevertJob
from domain.execution import Execution
from interfaces.database import create_database, drop_database
from tests.e2e.test_cli import cli


@pytest.fixture
def own_database(server_url: str) -> Any:
    url = create_database(server_url, "gs_verify")
    yield url
    drop_database(server_url, url)


def test_projections_verify_is_clean_after_use_and_fails_after_tampering(own_database: str, settings: Any) -> None:
    from interfaces.runtime import Runtime

    url = own_database
    runtime = Runtime(replace(settings, database_url=url)).start()
    env = {**os.environ, "DATABASE_URL": url, "SCHEDULER_JWT_SECRET": settings.jwt_secret}
    try:
        app = runtime.app
        base = {"type": "interval", "schedule": {"interval_seconds": 60}, "action": {"type": "publish", "topic": "t/x"}}
        jobs = [app.create_job("gw-v", {**base, "name": f"job {i}"}, actor="ops").job for i in range(3)]
        app.update_job("gw-v", jobs[0].job_id, {"name": "renamed", "schedule": {"interval_seconds": 5}}, actor="ops")
        app.toggle_job("gw-v", jobs[1].job_id, enabled=False, reason="maintenance", actor="ops")
        app.execute(RevertJob("gw-v", jobs[0].job_id, 1), CommandContext("ops", None))
        app.delete_job("gw-v", jobs[2].job_id, actor="ops")
        execution = Execution.start(gateway_id="gw-v", job_id=jobs[0].job_id, execution_id="exec_v1", job_name="job 0",
                                    trigger="scheduled", scheduled_for=jobs[0].next_execution, now=jobs[0].next_execution)
        execution.succeed(now=jobs[0].next_execution, duration_ms=12, message="ok", logs=[{"message": "hi"}])
        recordings = app.record([execution])
        saved = app.toggle_job("gw-v", jobs[0].job_id, enabled=False, reason="last", actor="ops")
        assert runtime.wait((*saved.recorded, *((r.notification.topic, r.notification.id) for r in recordings)))

        clean = cli("projections", "verify", env=env)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        for name in ("job_list", "gateways", "execution_history", "audit", "analytics"):
            assert f"{name}: clean" in clean.stdout

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE job_versions SET actor = 'mallory' WHERE job_id = %s AND version = 2", (jobs[0].job_id,))
            conn.execute("UPDATE jobs SET name = 'tampered' WHERE job_id = %s", (jobs[1].job_id,))
        tampered = cli("projections", "verify", env=env)
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert "audit: DIFFERS" in tampered.stdout and "job_list: DIFFERS" in tampered.stdout
        assert "job_versions: 1 row(s) only in the live read model, 1 only in the replay" in tampered.stdout
        assert "mallory" in tampered.stdout and "tampered" in tampered.stdout
        assert "execution_history: clean" in tampered.stdout
        one = cli("projections", "verify", "--name", "execution_history", env=env)
        assert one.returncode == 0 and "audit" not in one.stdout

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE job_versions SET actor = 'ops' WHERE job_id = %s AND version = 2", (jobs[0].job_id,))
            conn.execute("UPDATE jobs SET name = 'job 1' WHERE job_id = %s", (jobs[1].job_id,))
            left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'verify_%%'").fetchone()
            assert left == (0,)  # the scratch schemas are dropped
        assert cli("projections", "verify", env=env).returncode == 0

        log = cli("events", "--after", "0", "--limit", "5", env=env)
        assert log.returncode == 0, log.stderr
        lines = [json.loads(line) for line in log.stdout.splitlines()]
        assert len(lines) == 5 and [e["position"] for e in lines] == sorted(e["position"] for e in lines)
        assert lines[0]["type"] in ("Gateway.Created", "Job.Created") and lines[0]["timestamp"].endswith("Z")
        after = cli("events", "--after", str(lines[-1]["position"]), "--limit", "1000", env=env)
        assert all(json.loads(line)["position"] > lines[-1]["position"] for line in after.stdout.splitlines())
    finally:
        runtime.close()
