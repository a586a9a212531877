"""The page in Chromium, against the live service: sign in, the embedded jobs drawn with no API
request, create, toggle, run (seen in the live monitor), edit, import, history and a chart, sign
out; the XSS case, the viewer's page, the redirect without a session, the CSRF refusal."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import job_body
from tests.e2e.conftest import DEADLINE, PASSWORD, sign_in

API = "/api/v1/scheduler"


def api_client(site: str, role: str, gateway_id: str) -> httpx.Client:
    from tests.conftest import token

    return httpx.Client(base_url=site + API, headers={"Authorization": f"Bearer {token(role)}", "X-Gateway-ID": gateway_id})


def create_job(site: str, gateway_id: str, **overrides: Any) -> dict[str, Any]:
    with api_client(site, "operator", gateway_id) as client:
        answer = client.post("/jobs", json=job_body(**overrides))
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def test_sign_in_draws_the_embedded_jobs_without_any_api_request(context, site, users, page_gateway):
    job = create_job(site, page_gateway, name=f"Embedded {uuid.uuid4().hex[:6]}")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, site, users["operator"], page_gateway)
    row = page.locator(f"tr[data-job-id='{job['job_id']}']")
    row.wait_for()
    assert job["name"] in row.inner_text()
    page_load = [u for u in requests if API in u and "/ws" not in u]
    assert page_load == [], page_load
