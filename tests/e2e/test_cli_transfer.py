"""`gateway-scheduler jobs export` and `jobs import` as an operator runs them, in subprocesses on a
database of their own: export to a file, a dry run that writes nothing, the import (actor `cli`,
its import id on every event), the same file again writing nothing, a progress bar for a large
file, and IMPORT_FAILED listing each bad job."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from interfaces.runtime import Runtime
from tests.e2e.test_cli import cli, own_database  # noqa: F401 - the fixture

ACTION = {"type": "publish", "topic": "t/cli"}


def _events(runtime: Runtime, gateway_id: str) -> list[Any]:
    """Every event of the gateway's jobs and of the gateway, from the log."""
    from domain.identity import gateway_uuid

    app = runtime.app
    gateway = list(app.events.get(gateway_uuid(gateway_id)))
    job_ids = {e.job_id for e in gateway if hasattr(e, "job_id")}
    return gateway + [e for job_id in sorted(job_ids) for e in app.job_events(gateway_id, job_id)]


def test_export_then_import_into_another_gateway_from_the_command_line(own_database, settings, tmp_path: Path):  # noqa: F811
    url = own_database
    env = {**os.environ, "DATABASE_URL": url, "SCHEDULER_JWT_SECRET": settings.jwt_secret}
    runtime = Runtime(replace(settings, database_url=url)).start()
    try:
        app = runtime.app
        app.create_job("gw-a", {"id": "job-one", "name": "one", "type": "interval", "schedule": {"interval_seconds": 60},
                                "action": ACTION}, actor="ops")
        saved = app.create_job("gw-a", {"id": "job-two", "name": "two", "type": "daily", "schedule": {"time": "07:15"},
                                        "action": ACTION}, actor="ops")
        assert runtime.wait(saved.recorded, timeout=10)

        exported = tmp_path / "gw-a.yaml"
        done = cli("jobs", "export", "--gateway-id", "gw-a", "-o", str(exported), env=env)
        assert done.returncode == 0, done.stderr
        text = exported.read_text()
        assert "export_type: jobs_configuration" in text and "id: job-two" in text

        planned = cli("jobs", "import", str(exported), "--gateway-id", "gw-b", "--dry-run", env=env)
        assert planned.returncode == 0, planned.stderr
        plan = json.loads(planned.stdout)
        assert plan["dry_run"] is True and [(j["id"], j["action"]) for j in plan["jobs"]] == [
            ("job-one", "create"), ("job-two", "create")]
        assert _events(runtime, "gw-b") == []

        imported = cli("jobs", "import", str(exported), "--gateway-id", "gw-b", "--plan-token", plan["plan_token"],
                       env=env)
        assert imported.returncode == 0, imported.stderr
        answer = json.loads(imported.stdout)
        assert (answer["imported"], answer["skipped"]) == (2, 0)
        events = _events(runtime, "gw-b")
        assert len(events) == 5  # Gateway.Created, two JobAdded, two Job.Created
        assert {(e.actor, e.operation_id) for e in events} == {("cli", answer["import_id"])}
        assert app.job("gw-b", "job-two").config.schedule == app.job("gw-a", "job-two").config.schedule

        again = cli("jobs", "import", str(exported), "--gateway-id", "gw-b", env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["skipped"] == 2
        assert len(_events(runtime, "gw-b")) == 5

        printed = cli("jobs", "export", "--gateway-id", "gw-b", "--format", "csv", env=env)
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.splitlines()[0].startswith("id,name,description,type,enabled,tags,schedule,action")
        assert [line.split(",")[0] for line in printed.stdout.splitlines()[1:]] == ["job-one", "job-two"]
    finally:
        runtime.close()


def _file(jobs: list[dict[str, Any]]) -> str:
    return json.dumps({"export_type": "jobs_configuration", "format_version": 1, "jobs": jobs})


def test_a_large_import_shows_its_progress_and_a_bad_file_lists_each_bad_job(own_database, settings, tmp_path: Path):  # noqa: F811
    env = {**os.environ, "DATABASE_URL": own_database, "SCHEDULER_JWT_SECRET": settings.jwt_secret}
    jobs = [{"id": f"job-{i:04d}", "name": f"job {i}", "type": "interval", "schedule": {"interval_seconds": 60 + i},
             "action": ACTION} for i in range(300)]
    large = tmp_path / "large.json"
    large.write_text(_file(jobs))
    done = cli("jobs", "import", str(large), "--gateway-id", "gw-large", env=env)
    assert done.returncode == 0, done.stderr
    assert f"checking [{'#' * 30}] 300/300 jobs" in done.stderr
    assert json.loads(done.stdout)["imported"] == 300

    bad = tmp_path / "bad.json"
    bad.write_text(_file([{**jobs[0], "id": "job-new"}, {**jobs[1], "id": "job-x", "schedule": {"interval_seconds": 0}},
                          {**jobs[2], "id": "job-y", "action": {"type": "teleport"}}]))
    refused = cli("jobs", "import", str(bad), "--gateway-id", "gw-large", env=env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "IMPORT_FAILED" in refused.stderr
    assert "job 1 (job-x): schedule.interval_seconds:" in refused.stderr
    assert "job 2 (job-y): action.type:" in refused.stderr
    runtime = Runtime(replace(settings, database_url=own_database)).start(follow=False)
    try:
        assert runtime.app.job_ever("gw-large", "job-new") is None
    finally:
        runtime.close()
