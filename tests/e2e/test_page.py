"""The page in Chromium, against the live service: sign in, the embedded jobs drawn with no API
request, create, toggle, run (seen in the live monitor), edit, import, history and a chart, sign
out; the XSS case, the viewer's page, the redirect without a session, the CSRF refusal."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

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


def test_sign_in_draws_the_embedded_jobs_without_any_api_request(context, site, runtime):
    from interfaces.auth.users import Users

    # A gateway of its own where nothing fires, so no feed message makes the page read the list again.
    gateway_id = f"gw-quiet-{uuid.uuid4().hex[:6]}"
    name = f"quiet-{uuid.uuid4().hex[:6]}"
    Users(runtime.url).add(name, PASSWORD, "operator", [gateway_id])
    jobs = [create_job(site, gateway_id, name=f"Embedded {i} {uuid.uuid4().hex[:6]}", enabled=False) for i in range(3)]
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, site, name, gateway_id)
    for job in jobs:
        row = page.locator(f"tr[data-job-id='{job['job_id']}']")
        row.wait_for()
        assert job["name"] in row.inner_text()
    page.locator("body[data-feed=live]").wait_for(state="attached")
    page_load = [u for u in requests if API in u and "/ws" not in u]
    assert page_load == [], page_load
    assert any(u.endswith("/static/app.js") for u in requests)


def job_row(page: Any, job_id: str) -> Any:
    return page.locator(f"#jobs-body tr[data-job-id='{job_id}']")


def wait_api(site: str, gateway_id: str, path: str, done: Any, role: str = "operator") -> Any:
    """Polls an API read until `done(data)` holds, within the deadline; its data."""
    import time

    deadline = time.monotonic() + DEADLINE
    with api_client(site, role, gateway_id) as client:
        while True:
            data = client.get(path).json()["data"]
            if done(data):
                return data
            assert time.monotonic() < deadline, f"{path} never satisfied the condition: {data}"
            time.sleep(0.1)


def open_section(page: Any, name: str) -> None:
    page.click(f"#nav-{name}")
    page.locator(f"#section-{name}").wait_for(state="visible")


def test_a_job_created_through_the_form_is_listed_toggled_and_edited(context, site, users, page_gateway):
    page = context.new_page()
    sign_in(page, site, users["operator"], page_gateway)
    name = f"Form job {uuid.uuid4().hex[:6]}"
    open_section(page, "create")
    page.fill("#job-name", name)
    page.select_option("#job-type", "interval")
    page.fill("#sched-interval_seconds", "3600")
    page.fill("#action-topic", "e2e/form")
    page.fill("#job-tags", "e2e, form")
    page.locator("#schedule-description").filter(has_text="3600").or_(page.locator("#schedule-description")).first.wait_for()
    assert page.locator("#schedule-next li").count() == 5
    page.click("#save-job")
    page.locator("#section-jobs").wait_for(state="visible")
    row = page.locator("#jobs-body tr", has_text=name)
    row.wait_for()
    job_id = row.get_attribute("data-job-id")

    # Toggle with a reason: the switch goes off and the job is disabled with that reason.
    job_row(page, job_id).locator("input.switch").click()
    page.fill("#toggle-reason", "e2e maintenance")
    page.click("#dialog [data-action=Disable]")
    page.wait_for_function("id => !document.querySelector(`tr[data-job-id='${id}'] input.switch`).checked", arg=job_id)
    detail = wait_api(site, page_gateway, f"/jobs/{job_id}", lambda d: not d["job"]["enabled"])
    assert detail["job"]["metadata"]["disabled_reason"] == "e2e maintenance"

    # Edit: the form is filled with the job; a new name and interval are saved.
    job_row(page, job_id).locator("[data-act=edit]").click()
    page.locator("#form-title", has_text=f"Edit {name}").wait_for()
    assert page.input_value("#sched-interval_seconds") == "3600"
    page.fill("#job-name", name + " edited")
    page.fill("#sched-interval_seconds", "7200")
    page.click("#save-job")
    job_row(page, job_id).filter(has_text=name + " edited").wait_for()
    detail = wait_api(site, page_gateway, f"/jobs/{job_id}", lambda d: d["job"]["name"] == name + " edited")
    assert detail["job"]["configuration"]["schedule"]["interval_seconds"] == 7200


def test_a_bad_schedule_is_explained_as_the_user_types(context, site, users, page_gateway):
    page = context.new_page()
    sign_in(page, site, users["operator"], page_gateway)
    open_section(page, "create")
    page.select_option("#job-type", "cron")
    page.fill("#sched-cron_expression", "61 * * * *")
    page.locator("#schedule-error").wait_for()
    page.fill("#sched-cron_expression", "0 9-17 * * 1-5")
    page.locator("#schedule-description").wait_for()
    assert "9" in page.inner_text("#schedule-description")


def test_a_run_from_the_table_goes_through_the_live_monitor_which_resumes_after_a_drop(context, site, users, page_gateway):
    job = create_job(site, page_gateway, name=f"Live {uuid.uuid4().hex[:6]}", schedule={"interval_seconds": 86400})
    page = context.new_page()
    sign_in(page, site, users["operator"], page_gateway)
    page.locator("body[data-feed=live]").wait_for(state="attached")
    job_row(page, job["job_id"]).locator("[data-act=run]").click()
    open_section(page, "live")
    stream = page.locator("#event-stream")
    stream.locator("li[data-type=job_started]", has_text=job["name"]).wait_for()
    stream.locator("li[data-type=job_completed]", has_text=job["name"]).wait_for()

    # A dropped connection resumes from its position: the next run arrives once, nothing repeats.
    page.wait_for_selector("#feed-status[data-state=live]")
    page.click("#feed-interrupt")
    with api_client(site, "operator", page_gateway) as client:
        assert client.post(f"/jobs/{job['job_id']}/run", json={}).status_code == 200
    page.wait_for_function(
        "name => document.querySelectorAll(`#event-stream li[data-type=job_completed]`).length >= 2"
        " && [...document.querySelectorAll('#event-stream li[data-type=job_completed]')].filter(li => li.textContent.includes(name)).length == 2",
        arg=job["name"])
    positions = page.eval_on_selector_all("#event-stream li", "items => items.map(li => li.dataset.position)")
    assert len(positions) == len(set(positions))
    assert "reconnects 1" in page.inner_text("#feed-status") or "reconnects 2" in page.inner_text("#feed-status")


def test_history_shows_the_runs_with_their_logs_and_a_chart(context, site, users, page_gateway):
    job = create_job(site, page_gateway, name=f"History {uuid.uuid4().hex[:6]}", schedule={"interval_seconds": 86400})
    with api_client(site, "operator", page_gateway) as client:
        assert client.post(f"/jobs/{job['job_id']}/run", json={}).status_code == 200
    wait_api(site, page_gateway, f"/jobs/{job['job_id']}/history", lambda d: any(h["status"] == "success" for h in d["history"]))
    page = context.new_page()
    sign_in(page, site, users["viewer"], page_gateway)
    open_section(page, "history")
    page.select_option("#history-job", job["job_id"])
    row = page.locator("#history-table tr[data-execution-id]", has_text="success").first
    row.wait_for()
    page.locator("#charts[data-drawn=true] #chart-duration canvas").wait_for()
    page.locator("#charts #chart-success canvas").wait_for()
    row.locator("[data-act=logs]").click()
    page.locator("#log-lines .log").first.wait_for()
    page.select_option("#history-status", "failed")
    page.locator("#history-table", has_text="No execution matches").wait_for()
    page.locator("#stats-cards .card").first.wait_for()


def test_a_hostile_job_name_shows_as_text_and_runs_nothing(context, site, users, page_gateway):
    hostile = "'</div><script>alert(1)</script>"
    job = create_job(site, page_gateway, name=hostile, description='"><img src=x onerror=alert(2)>', tags=["<b>t</b>"])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, site, users["operator"], page_gateway)
    name = job_row(page, job["job_id"]).locator(".job-name")
    assert name.inner_text() == hostile
    job_row(page, job["job_id"]).locator("[data-act=details]").click()
    page.locator("#job-details").wait_for()
    assert '"><img src=x onerror=alert(2)>' in page.inner_text("#job-details")
    page.click("#dialog [data-action=Close]")
    for section in ("history", "schedules", "live"):
        open_section(page, section)
    assert page.evaluate("document.querySelectorAll('script').length") == 1
    assert page.evaluate("document.querySelectorAll('#app img, #dialog img').length") == 0
    assert dialogs == []


def test_a_viewer_sees_no_command_buttons(context, site, users, page_gateway):
    job = create_job(site, page_gateway, name=f"Viewed {uuid.uuid4().hex[:6]}")
    page = context.new_page()
    sign_in(page, site, users["viewer"], page_gateway)
    job_row(page, job["job_id"]).wait_for()
    commands = "[data-act=edit], [data-act=run], [data-act=delete], input.switch, #new-job, #save-job, #bulk-run, #bulk-disable, #bulk-reset, #import-dry-run"
    for section in ("jobs", "create", "bulk"):
        open_section(page, section)
        assert page.locator(commands).count() == 0, section
    assert job_row(page, job["job_id"]).locator("[data-act=details]").count() == 1


def test_without_a_session_the_page_sends_the_browser_to_login_and_back(context, site, users, page_gateway):
    with httpx.Client(base_url=site) as client:
        answer = client.get("/scheduler-automation", follow_redirects=False)
    assert answer.status_code == 302 and answer.headers["location"] == "/login?next=%2Fscheduler-automation"
    page = context.new_page()
    page.goto(f"{site}/scheduler-automation?gateway_id={page_gateway}")
    assert page.url.startswith(f"{site}/login?next=")
    page.fill("#username", users["viewer"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    assert page.url == f"{site}/scheduler-automation?gateway_id={page_gateway}#jobs"
    assert json.loads(page.get_attribute("#app", "data-scheduler"))["gateway_id"] == page_gateway


def test_a_write_without_the_csrf_token_is_refused_in_the_browser(context, site, users, page_gateway):
    job = create_job(site, page_gateway, name=f"Csrf {uuid.uuid4().hex[:6]}")
    page = context.new_page()
    sign_in(page, site, users["operator"], page_gateway)
    script = """async ([path, gateway, csrf]) => {
        const headers = {"Content-Type": "application/json", "X-Gateway-ID": gateway};
        if (csrf) headers["X-CSRF-Token"] = csrf === "embedded" ? JSON.parse(document.getElementById("app").dataset.scheduler).csrf_token : csrf;
        const r = await fetch(path, {method: "POST", headers, body: JSON.stringify({enabled: false}), credentials: "same-origin"});
        return [r.status, await r.json()];
    }"""
    path = f"{API}/jobs/{job['job_id']}/toggle"
    for csrf in (None, "forged"):
        status, body = page.evaluate(script, [path, page_gateway, csrf])
        assert status == 403 and body["error"]["details"] == {"reason": "csrf"}
    assert wait_api(site, page_gateway, f"/jobs/{job['job_id']}", lambda d: True)["job"]["enabled"] is True
    status, _ = page.evaluate(script, [path, page_gateway, "embedded"])
    assert status == 200


def test_sign_out_ends_the_session(context, site, users, page_gateway):
    page = context.new_page()
    sign_in(page, site, users["operator"], page_gateway)
    page.click("#logout")
    page.wait_for_url(f"{site}/login")
    assert not [c for c in context.cookies() if c["name"] == "session_token" and c["value"]]
    page.goto(f"{site}/scheduler-automation")
    assert page.url.startswith(f"{site}/login?next=")


def test_an_import_goes_through_its_dry_run_plan_before_it_is_applied(context, site, users, page_gateway, tmp_path):
    source = f"gw-src-{uuid.uuid4().hex[:6]}"
    exported_job = create_job(site, source, name=f"Imported {uuid.uuid4().hex[:6]}")
    with api_client(site, "admin", source) as client:
        exported = client.post("/jobs/export", json={"gateway_id": source, "format": "json"})
    assert exported.status_code == 200, exported.text
    file = tmp_path / "jobs.json"
    file.write_bytes(exported.content)
    page = context.new_page()
    sign_in(page, site, users["admin"], page_gateway)
    open_section(page, "bulk")
    page.set_input_files("#import-file", str(file))
    page.click("#import-dry-run")
    page.locator("#import-plan", has_text=exported_job["job_id"]).wait_for()
    listed = wait_api(site, page_gateway, "/jobs?limit=100", lambda d: True)["jobs"]
    assert all(j["id"] != exported_job["job_id"] for j in listed)  # the dry run wrote nothing
    page.click("#import-apply")
    open_section(page, "jobs")
    job_row(page, exported_job["job_id"]).wait_for()
