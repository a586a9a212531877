"""Sign-in and sessions over HTTP: the form, the cookie's flags, local-only `next`, failures
slowed down per user and address, sign-out, the CSRF check on cookie-authenticated writes (Bearer
clients unaffected), the page's embedded data and its Content-Security-Policy, the users CLI."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, job_body

PASSWORD = "a long enough password"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_session_left(http: Any) -> Any:
    """The HTTP client is the session's: a sign-in here must not leave its cookie to later tests
    (an anonymous request would then be a cookie-authenticated one)."""
    yield
    http.cookies.clear()


@pytest.fixture
def store(runtime: Any) -> Any:
    from interfaces.auth.users import Users

    return Users(runtime.url)


@pytest.fixture
def user(store: Any, gateway_id: str) -> str:
    name = f"op-{uuid.uuid4().hex[:8]}"
    store.add(name, PASSWORD, "operator", [gateway_id])
    yield name
    store.remove(name)
    store.clear_failures([f"user:{name}", "address:testclient"])


def login_form(http: Any, next_path: str | None = None) -> str:
    answer = http.get("/login", params={"next": next_path} if next_path is not None else None)
    assert answer.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', answer.text).group(1)


def sign_in(http: Any, username: str, password: str = PASSWORD, next_path: str = "", headers: dict | None = None) -> Any:
    http.cookies.clear()
    csrf = login_form(http)
    return http.post("/login", data={"username": username, "password": password, "next": next_path, "csrf_token": csrf},
                     headers=headers or {}, follow_redirects=False)


def session_cookie(answer: Any) -> str:
    return next(h for h in answer.headers.get_list("set-cookie") if h.startswith("session_token="))


def test_a_sign_in_sets_an_httponly_lax_session_cookie_the_api_accepts_and_goes_to_the_page(http, user, gateway_id):
    answer = sign_in(http, user)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/scheduler-automation"
    cookie = session_cookie(answer)
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    listed = http.get("/api/v1/scheduler/jobs", headers={"Authorization": f"Bearer {token}", "X-Gateway-ID": gateway_id})
    assert listed.status_code == 200


def test_the_session_cookie_is_secure_behind_https(http, user):
    answer = sign_in(http, user, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in session_cookie(answer)


@pytest.mark.parametrize("target", ["//evil.com", "https://evil", "/\\evil", "http://evil.com/x", "\\\\evil",
                                    "javascript:alert(1)", "/\tevil", "/\r\nSet-Cookie: x=1", "evil.com"])
def test_next_must_be_a_local_path(http, user, target):
    answer = sign_in(http, user, next_path=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/scheduler-automation"


def test_a_local_next_is_followed(http, user, gateway_id):
    answer = sign_in(http, user, next_path=f"/scheduler-automation?gateway_id={gateway_id}#history")
    assert answer.headers["location"] == f"/scheduler-automation?gateway_id={gateway_id}#history"


def test_a_wrong_password_or_unknown_user_is_refused_with_the_form_and_no_cookie(http, user):
    for name, password in ((user, "not the password"), (f"nobody-{uuid.uuid4().hex[:6]}", PASSWORD)):
        answer = sign_in(http, name, password)
        assert answer.status_code == 401
        assert "Wrong username or password" in answer.text
        assert not any(h.startswith("session_token=") for h in answer.headers.get_list("set-cookie"))


def test_a_form_without_its_token_is_refused(http, user):
    http.cookies.clear()
    answer = http.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403


def test_failures_are_counted_per_user_and_address_and_a_success_clears_them(http, user, store):
    for _ in range(3):
        assert sign_in(http, user, "wrong password!").status_code == 401
    counts = {r["key"]: r["failures"] for r in _failures(store, user)}
    assert counts == {f"user:{user}": 3, "address:testclient": 3}
    store.clear_failures(["address:testclient", f"user:{user}"])
    assert sign_in(http, user).status_code == 303
    assert _failures(store, user) == []


def test_after_repeated_failures_even_the_right_password_waits(http, user, store):
    for _ in range(10):  # the delay after 10 failures is 2**7 s: far beyond this test's duration
        store.record_failure([f"user:{user}"], datetime.now(UTC))
    answer = sign_in(http, user)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 60
    assert "Too many failed sign-ins" in answer.text
    assert not any(h.startswith("session_token=") for h in answer.headers.get_list("set-cookie"))


def test_the_delay_grows_from_the_fourth_failure_up_to_five_minutes():
    from interfaces.auth.users import delay_after

    assert [delay_after(n).total_seconds() for n in range(0, 7)] == [0, 0, 0, 1, 2, 4, 8]
    assert delay_after(40).total_seconds() == 300


def _failures(store: Any, user: str) -> list[dict[str, Any]]:
    with store._connect() as conn:
        return conn.execute("SELECT key, failures FROM login_failures WHERE key = ANY(%s) ORDER BY key",
                            ([f"user:{user}", "address:testclient"],)).fetchall()


def page(http: Any, gateway_id: str) -> Any:
    return http.get("/scheduler-automation", params={"gateway_id": gateway_id}, follow_redirects=False)


def test_the_page_without_a_session_redirects_to_login_with_next(http):
    http.cookies.clear()
    answer = http.get("/scheduler-automation", params={"gateway_id": "gw-x"}, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/login?next=%2Fscheduler-automation%3Fgateway_id%3Dgw-x"


def embedded(text: str) -> dict[str, Any]:
    found = re.search(r"<div id=\"app\" data-scheduler='([^']*)' data-jobs='([^']*)' data-gateways='([^']*)' data-metrics='([^']*)'>", text)
    assert found, "the #app element is not as the contract shows"
    return {name: json.loads(html.unescape(value)) for name, value in zip(("scheduler", "jobs", "gateways", "metrics"), found.groups())}


def test_the_page_embeds_the_api_s_data_as_json_escaped_for_its_attribute(http, user, gateway_id):
    api = Api(http, gateway_id)
    hostile = "'</div><script>alert(1)</script>&\"{{x}}"
    created = api.post("/jobs", json=job_body(name=hostile, tags=["x'y"])).json()["data"]
    listed = api.get("/jobs").json()["data"]["jobs"]
    sign_in(http, user)
    answer = page(http, gateway_id)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in answer.text
    data = embedded(answer.text)
    assert data["jobs"] == listed
    assert data["jobs"][0]["id"] == created["job_id"] and data["jobs"][0]["name"] == hostile
    assert data["scheduler"]["gateway_id"] == gateway_id
    assert data["scheduler"]["user"] == {"name": user, "role": "operator"}
    assert data["scheduler"]["status"]["total_jobs"] == 1
    assert data["metrics"]["statistics"]["gateway_id"] == gateway_id
    assert {"resource_usage", "active", "feed_position"} <= set(data["metrics"])
    assert isinstance(data["gateways"], list)


def test_the_page_s_policy_allows_no_inline_script(http, user, gateway_id):
    sign_in(http, user)
    answer = page(http, gateway_id)
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", answer.text, re.S)
    assert scripts and all('src="/static/' in attrs and body.strip() == "" for attrs, body in scripts)
    assert " style=" not in answer.text and "<style" not in answer.text
    assert http.get("/static/app.js").status_code == 200


def test_the_page_remembers_the_gateway_selected_and_ignores_one_not_granted(http, user, gateway_id, store):
    sign_in(http, user)
    http.cookies.set("scheduler_gateway", gateway_id)
    answer = http.get("/scheduler-automation", follow_redirects=False)
    assert embedded(answer.text)["scheduler"]["gateway_id"] == gateway_id
    admin = f"admin-{uuid.uuid4().hex[:6]}"
    store.add(admin, PASSWORD, "admin", ["*"])
    try:
        sign_in(http, admin)
        http.cookies.set("scheduler_gateway", "gw-not-granted'<")
        answer = http.get("/scheduler-automation", follow_redirects=False)
        assert embedded(answer.text)["scheduler"]["gateway_id"] == "gw-test-home"  # the server's own
    finally:
        store.remove(admin)


def cookie_session(http: Any, user: str, gateway_id: str) -> str:
    """Signs in; the CSRF token the page embeds for this session."""
    sign_in(http, user)
    return embedded(page(http, gateway_id).text)["scheduler"]["csrf_token"]


def test_a_cookie_authenticated_write_needs_the_session_s_csrf_token(http, user, gateway_id, event_log):
    csrf = cookie_session(http, user, gateway_id)
    before = event_log.head()
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = http.post("/api/v1/scheduler/jobs", json=job_body(), headers={"X-Gateway-ID": gateway_id, **headers})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert refused.json()["error"]["details"] == {"reason": "csrf"}
    assert event_log.head() == before
    allowed = http.post("/api/v1/scheduler/jobs", json=job_body(), headers={"X-Gateway-ID": gateway_id, "X-CSRF-Token": csrf})
    assert allowed.status_code == 201
    assert http.get("/api/v1/scheduler/jobs", headers={"X-Gateway-ID": gateway_id}).status_code == 200  # reads need none


def test_a_bearer_client_needs_no_csrf_token_even_with_a_cookie(http, user, gateway_id):
    cookie_session(http, user, gateway_id)
    answer = Api(http, gateway_id).post("/jobs", json=job_body())
    assert answer.status_code == 201


def test_the_socket_token_route_needs_the_session_and_its_csrf_token(http, user, gateway_id):
    csrf = cookie_session(http, user, gateway_id)
    headers = {"X-Gateway-ID": gateway_id}
    assert http.post("/session/socket-token", headers={**headers, "X-CSRF-Token": "forged"}).status_code == 403
    issued = http.post("/session/socket-token", headers={**headers, "X-CSRF-Token": csrf})
    assert issued.status_code == 200, (issued.status_code, issued.headers, issued.text)
    token = issued.json()["token"]
    from interfaces.auth import principal_from_token
    from tests.conftest import JWT_SECRET

    assert principal_from_token(token, JWT_SECRET).subject == user
    http.cookies.clear()
    assert http.post("/session/socket-token", follow_redirects=False).status_code == 302


def test_sign_out_clears_the_cookie_and_needs_the_session_s_token(http, user, gateway_id):
    csrf = cookie_session(http, user, gateway_id)
    assert http.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    answer = http.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    cleared = session_cookie(answer)
    assert "Max-Age=0" in cleared or "max-age=0" in cleared.lower()
    assert page(http, gateway_id).status_code == 302


def cli(*args: str, stdin: str, settings: Any) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "DATABASE_URL": settings.database_url, "SCHEDULER_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "interfaces.cli", *args], cwd=ROOT, env=env, input=stdin,
                          text=True, capture_output=True, timeout=240)


@pytest.mark.slow
@pytest.mark.timeout(600)  # seven CLI processes, each starting Python and migrating: slow on a loaded machine
def test_the_users_cli_adds_with_a_password_from_stdin_lists_and_removes(http, settings, store, gateway_id):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    added = cli("users", "add", name, "--role", "viewer", "--gateway", gateway_id, stdin=PASSWORD + "\n", settings=settings)
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    assert store.verify(name, PASSWORD).role == "viewer"
    again = cli("users", "add", name, "--role", "viewer", "--gateway", gateway_id, stdin=PASSWORD + "\n", settings=settings)
    assert again.returncode == 1 and "exists" in again.stderr
    listed = cli("users", "list", stdin="", settings=settings)
    assert any(line.split("\t")[:3] == [name, "viewer", gateway_id] for line in listed.stdout.splitlines())
    assert sign_in(http, name).status_code == 303
    removed = cli("users", "remove", name, stdin="", settings=settings)
    assert removed.returncode == 0
    assert store.verify(name, PASSWORD) is None
    short = cli("users", "add", name, "--role", "viewer", "--gateway", gateway_id, stdin="short\n", settings=settings)
    assert short.returncode == 1 and "8 characters" in short.stderr
    usage = cli("users", "add", name, "--role", "viewer", "--gateway", gateway_id, "--password", "x", stdin="", settings=settings)
    assert usage.returncode == 2  # no password argument exists
