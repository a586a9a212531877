"""Shared fixtures: a fresh, migrated PostgreSQL database per test session (DATABASE_URL's server
when set, else an embedded one), a started runtime, and an HTTP client through the real app."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from interfaces.database import EmbeddedPostgres, create_database, drop_database

JWT_SECRET = "test-secret-" + uuid.uuid4().hex

# Property tests explore new examples on a developer's machine; CI (CI set, as .ci/run's callers
# do) replays the same derived examples every run, so a fresh clone's result does not depend on
# luck. A counterexample found locally is fixed, then kept as an @example.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    # Not under pytest's tmp dir: that one is private to its owner, and as root the embedded
    # server runs as its own system user, which must be able to reach the data directory.
    base = Path(tempfile.mkdtemp(prefix="gs-pg-"))
    base.chmod(0o755)
    embedded = EmbeddedPostgres(base / "pgdata")
    try:
        yield embedded.url
    finally:
        embedded.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A database of its own for this session, migrated, dropped at the end."""
    url = create_database(server_url, "gs_test")
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from interfaces.settings import Settings

    data_dir = tmp_path_factory.mktemp("data")
    return replace(
        Settings(), database_url=database_url, data_dir=data_dir, files_root=data_dir / "files",
        jwt_secret=JWT_SECRET, gateway_id="gw-test-home", log_json=True,
    )


@pytest.fixture(scope="session")
def runtime(settings: Any) -> Iterator[Any]:
    from interfaces.runtime import Runtime

    rt = Runtime(settings).start()
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture(scope="session")
def http(runtime: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    from interfaces.app import create_app

    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client


def token(role: str = "operator", gateways: list[str] | None = None, subject: str = "tester") -> str:
    from interfaces.auth import issue_token

    return issue_token(JWT_SECRET, subject=subject, role=role, gateways=gateways or ["*"], ttl=timedelta(hours=1))


@dataclass
class Api:
    """A client bound to one gateway context and one role."""

    http: Any
    gateway_id: str
    role: str = "operator"
    prefix: str = "/api/v1/scheduler"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(self.role)}", "X-Gateway-ID": self.gateway_id, **(extra or {})}

    def get(self, path: str, **kw: Any) -> Any:
        return self.http.get(self.prefix + path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.http.post(self.prefix + path, json=json, headers=self.headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.http.put(self.prefix + path, json=json, headers=self.headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.http.delete(self.prefix + path, headers=self.headers(kw.pop("headers", None)), **kw)

    def as_role(self, role: str) -> Api:
        return replace(self, role=role)


@pytest.fixture
def gateway_id() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(http: Any, gateway_id: str) -> Api:
    return Api(http, gateway_id)


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Modbus Poll",
        "description": "Poll Modbus devices for sensor data",
        "type": "interval",
        "enabled": True,
        "schedule": {"interval_seconds": 10},
        "action": {"type": "publish", "topic": "device/data/modbus", "payload_template": '{"t": "${NOW}"}'},
        "tags": ["modbus", "polling"],
    }
    body.update(overrides)
    return body


from tests.application.conftest import mqtt_url  # noqa: E402,F401 - a real broker for every layer's tests
