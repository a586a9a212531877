"""The page in a real browser: the real app under uvicorn (its worker firing this gateway's
jobs), users in the users table, and Debian's chromium driven by Playwright, one browser for the
whole session (no browser download: `executable_path`)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEADLINE = 20.0
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium: install Debian's chromium (scripts/setup.sh test does, as root) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def page_gateway() -> str:
    return f"gw-e2e-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")  # its worker stops with the module: no run of its jobs outlives it
def site(runtime: Any, page_gateway: str, mqtt_url: str) -> Iterator[str]:
    """The base URL of the real app under uvicorn, with a worker for the page's gateway."""
    import uvicorn

    from interfaces.app import create_app
    from interfaces.worker import start_worker

    worker = start_worker(runtime, page_gateway, mqtt_url=mqtt_url)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        worker.stop()


@pytest.fixture(scope="session")
def users(runtime: Any, page_gateway: str) -> dict[str, str]:
    """role -> username of a user of that role on the page's gateway."""
    from interfaces.auth.users import Users

    store = Users(runtime.url)
    names = {}
    for role in ("viewer", "operator", "admin"):
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        store.add(name, PASSWORD, role, [page_gateway])
        names[role] = name
    return names


def sign_in(page: Any, site: str, username: str, gateway_id: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{site}/login?next=/scheduler-automation%3Fgateway_id%3D{gateway_id}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    try:
        page.wait_for_selector("body[data-ready=true]", timeout=DEADLINE * 1000)
    except Exception as exc:
        raise AssertionError(f"the page did not start: {errors}") from exc


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.set_default_timeout(DEADLINE * 1000)
    try:
        yield ctx
    finally:
        ctx.close()
