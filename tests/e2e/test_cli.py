"""The `gateway-scheduler` command as an operator runs it, in subprocesses: the README path (serve
on an embedded PostgreSQL, a token from `token issue`, SIGTERM stops the database, a restart finds
every job), `migrate`, `events` and `projections rebuild`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from interfaces.database import create_database, drop_database
from tests.conftest import job_body

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/scheduler"


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interfaces.cli", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)


def postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Service:
    """`gateway-scheduler serve --port 0` in a subprocess; the API address is read off its output."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "interfaces.cli", "serve", "--port", "0", "--no-worker"],
                                     cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=self.log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # printed once the runtime (and its database) is up
        found = re.search(r"API on (http://[\d.]+:\d+)", line)
        assert found, f"unexpected first line: {line!r} (exit {self.proc.poll()})"
        self.base = found.group(1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the service did not become ready")

    def stop(self) -> None:
        """SIGTERM: uvicorn shuts down gracefully, then re-raises the signal (as systemd expects)."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=60) in (0, -signal.SIGTERM)
        self.log.close()


@pytest.fixture
def home() -> Any:
    """A data directory as on a fresh machine: no DATABASE_URL, so serve starts its own PostgreSQL."""
    base = Path(tempfile.mkdtemp(prefix="gs-cli-"))
    base.chmod(0o755)  # as root the embedded server runs as its own user
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SCHEDULER_JWT_SECRET")}
    env.update(SCHEDULER_DATA_DIR=str(base / "var"), SCHEDULER_GATEWAY_ID="gw-cli", PYTHONUNBUFFERED="1")
    yield base, env
    if postmaster_running(base / "var" / "pgdata"):  # a failed test must not leave a server behind
        subprocess.run(["pkill", "-f", str(base / "var" / "pgdata")], check=False)
    shutil.rmtree(base, ignore_errors=True)


def test_serve_on_embedded_postgres_stops_it_on_sigterm_and_a_restart_finds_every_job(home):
    base, env = home
    pgdata = base / "var" / "pgdata"
    service = Service(env, base / "first.log")
    issued = cli("token", "issue", "--role", "admin", "--gateway", "*", env=env)
    assert issued.returncode == 0, issued.stderr
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}", "X-Gateway-ID": "gw-cli"}
    created = httpx.post(service.base + API + "/jobs", json=job_body(name="survives restarts"), headers=headers)
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["job_id"]
    assert postmaster_running(pgdata)

    service.stop()
    assert not postmaster_running(pgdata)
    lines = [json.loads(line) for line in (base / "first.log").read_text().splitlines() if line.startswith("{")]
    posted = [line for line in lines if line.get("event") == "request_completed" and line["method"] == "POST"]
    assert [line["status"] for line in posted] == [201]  # its canonical line reached the log

    again = Service(env, base / "second.log")
    try:
        listed = httpx.get(again.base + API + "/jobs", headers=headers).json()["data"]["jobs"]
        assert [(j["id"], j["name"]) for j in listed] == [(job_id, "survives restarts")]
    finally:
        again.stop()
    assert not postmaster_running(pgdata)
    assert cli("migrate", env=env).stdout.strip() == "applied: nothing (up to date)"


@pytest.fixture
def own_database(server_url: str) -> Any:
    url = create_database(server_url, "gs_cli")
    yield url
    drop_database(server_url, url)


def test_events_prints_a_jobs_history_and_projections_rebuild_restores_the_read_models(own_database, settings):
    from interfaces.runtime import Runtime

    url = own_database
    runtime = Runtime(replace(settings, database_url=url)).start()
    env = {**os.environ, "DATABASE_URL": url, "SCHEDULER_JWT_SECRET": settings.jwt_secret}
    try:
        app = runtime.app
        base = {"type": "interval", "schedule": {"interval_seconds": 60}, "action": {"type": "publish", "topic": "t/x"}}
        job = app.create_job("gw-cli", {**base, "name": "first"}, actor="ops").job
        app.update_job("gw-cli", job.job_id, {"name": "second"}, actor="ops")
        runtime.wait(app.toggle_job("gw-cli", job.job_id, enabled=False, reason="maintenance", actor="ops").recorded)
        before = runtime.reads.all("SELECT * FROM jobs ORDER BY job_id")

        printed = cli("events", job.job_id, "--gateway-id", "gw-cli", env=env)
        assert printed.returncode == 0, printed.stderr
        lines = [json.loads(line) for line in printed.stdout.splitlines()]
        assert [(e["version"], e["type"]) for e in lines] == [(1, "Job.Created"), (2, "Job.Updated"), (3, "Job.Toggled")]
        assert lines[0]["name"] == "first" and lines[2]["reason"] == "maintenance" and lines[2]["actor"] == "ops"
        assert cli("events", "job_nosuchjob", "--gateway-id", "gw-cli", env=env).returncode == 1

        refused = cli("projections", "rebuild", env=env)  # this runtime still projects: refused
        assert refused.returncode == 1 and "stop every serve and worker" in refused.stderr
    finally:
        runtime.close()

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE jobs SET name = 'damaged'")
    rebuilt = cli("projections", "rebuild", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "job_list: rebuilt from" in rebuilt.stderr and "execution_history: rebuilt from" in rebuilt.stderr
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute("SELECT * FROM jobs ORDER BY job_id").fetchall() == before
