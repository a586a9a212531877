"""Screenshots of the eight sections at 1440 px (desktop) and 390 px (phone), saved under
docs/screenshots/ for the README, on a gateway with jobs of several kinds and a few runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import DEADLINE, PASSWORD, SCREENSHOTS, sign_in
from tests.e2e.test_page import api_client, create_job, open_section, wait_api

SECTIONS = ["jobs", "create", "gateways", "schedules", "conflicts", "bulk", "history", "live"]
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def showcase(runtime: Any, site: str, page_gateway: str, mqtt_url: str) -> Iterator[tuple[str, str, str]]:
    """(gateway, admin user, the job that ran) on a gateway of its own, its worker running."""
    from interfaces.auth.users import Users
    from interfaces.worker import start_worker

    gateway = f"gw-plant-{uuid.uuid4().hex[:4]}"
    worker = start_worker(runtime, gateway, mqtt_url=mqtt_url)
    admin = f"admin-{uuid.uuid4().hex[:6]}"
    Users(runtime.url).add(admin, PASSWORD, "admin", [gateway, page_gateway])
    try:
        poll = create_job(site, gateway, name="Modbus Poll", schedule={"interval_seconds": 3600}, tags=["modbus", "telemetry"])
        create_job(site, gateway, name="Health Check", type="daily", schedule={"time": "01:00", "timezone": "UTC"},
                   action={"type": "system", "operation": "health_check"}, tags=["health"])
        create_job(site, gateway, name="Shift report", type="cron", schedule={"cron_expression": "0 6,14,22 * * *", "timezone": "Europe/Berlin"},
                   action={"type": "publish", "topic": "plant/shift"}, tags=["reports"])
        create_job(site, gateway, name="Weekly cleanup", type="weekly", schedule={"days": ["mon", "thu"], "time": "03:30", "timezone": "UTC"},
                   action={"type": "file", "operation": "cleanup", "pattern": "logs/*.log", "retain_days": 7}, tags=["maintenance"])
        with api_client(site, "operator", gateway) as client:
            for _ in range(3):
                assert client.post(f"/jobs/{poll['job_id']}/run", json={}).status_code == 200
                wait_api(site, gateway, f"/jobs/{poll['job_id']}/history",
                         lambda d, n=_ + 1: sum(h["status"] == "success" for h in d["history"]) >= n)
        yield gateway, admin, poll["job_id"]
    finally:
        worker.stop()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_section_is_drawn_and_saved_as_a_screenshot(browser, site, showcase, viewport):
    gateway, admin, ran = showcase
    context = browser.new_context(viewport=VIEWPORTS[viewport], device_scale_factor=1)
    context.set_default_timeout(DEADLINE * 1000)
    try:
        page = context.new_page()
        sign_in(page, site, admin, gateway)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for number, section in enumerate(SECTIONS, start=1):
            open_section(page, section)
            ready(page, section, ran)
            path = SCREENSHOTS / f"{number}-{section}-{viewport}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 5000
    finally:
        context.close()


def ready(page: Any, section: str, ran: str) -> None:
    """Waits for what the section draws after it is shown."""
    if section == "jobs":
        page.locator("#jobs-body tr[data-job-id]").first.wait_for()
    elif section == "create":
        page.locator("#schedule-description").wait_for()
    elif section == "schedules":
        page.locator("#calendar[data-drawn=true]").wait_for()
    elif section == "history":
        page.select_option("#history-job", ran)
        page.locator("#charts[data-drawn=true] canvas").first.wait_for()
        page.locator("#history-table tr[data-execution-id]").first.wait_for()
        page.locator("#stats-cards .card").first.wait_for()
    elif section == "conflicts":
        page.locator("#gauges .gauge").first.wait_for()
        page.click("#conflict-check")
        page.locator("#conflict-result > *").first.wait_for()
    elif section == "live":
        page.locator("#feed-status[data-state=live]").wait_for()
        page.locator("#event-stream li").first.wait_for() if page.locator("#event-stream li").count() else None
