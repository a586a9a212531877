"""A lost database turns requests into 503 SERVICE_UNAVAILABLE within seconds, never a hang."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, job_body

pytestmark = pytest.mark.slow


def test_requests_fail_fast_with_service_unavailable_when_the_database_goes_away(settings: Any):
    from litestar.testing import TestClient

    from interfaces.app import create_app
    from interfaces.database import EmbeddedPostgres
    from interfaces.runtime import Runtime

    base = Path(tempfile.mkdtemp(prefix="gs-lost-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "pgdata")
    runtime = Runtime(replace(settings, database_url=server.url)).start()
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as http:
            api = Api(http, "gw-lost")
            assert api.post("/jobs", job_body()).status_code == 201
            server.stop()
            for call in (lambda: api.get("/jobs"), lambda: api.post("/jobs", job_body()), lambda: api.get("/status")):
                began = time.monotonic()
                response = call()
                elapsed = time.monotonic() - began
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
                assert elapsed < 10, f"took {elapsed:.1f} s"
            assert http.get("/readyz").status_code == 503
            assert http.get("/healthz").status_code == 200
    finally:
        runtime.close()
        shutil.rmtree(base, ignore_errors=True)
