"""The live feed as Server-Sent Events over a real socket (the real app under uvicorn, httpx
streaming, the real PostgreSQL): the same messages with `event`/`id`/`data`, Last-Event-ID resume,
filters, the API's refusals, resync_required, the OpenAPI document, and the subscription ending
with its client."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from interfaces.database import conninfo
from interfaces.maintenance import prune_executions
from tests.application.dispatch_support import wait_until
from tests.conftest import token
from tests.interfaces.test_live_feed import DEADLINE, gw, save, served, server  # noqa: F401 - fixtures
from tests.interfaces.test_live_feed_extras import save_and_project
from tests.projections.execution_events import succeeded


@pytest.fixture
def sse_headers(gw: str) -> dict[str, str]:  # noqa: F811
    return {"Authorization": f"Bearer {token('viewer', [gw])}", "X-Gateway-ID": gw}


class SseReader:
    """Reads `event:`/`id:`/`data:` frames off an httpx stream on a thread, so waits have deadlines."""

    def __init__(self, response: httpx.Response) -> None:
        self.response, self.frames, self._lock = response, [], threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        frame: dict[str, Any] = {}
        try:
            for line in self.response.iter_lines():
                if not line:
                    if frame:
                        with self._lock:
                            self.frames.append(frame)
                        frame = {}
                    continue
                name, _, value = line.partition(":")
                frame[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass

    def until(self, done: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + DEADLINE
        while True:
            with self._lock:
                frames = list(self.frames)
            if done(frames):
                return frames
            assert time.monotonic() < deadline, f"gave up waiting; received {frames}"
            time.sleep(0.02)


@pytest.fixture
def sse(server: str) -> Iterator[Any]:  # noqa: F811
    clients: list[httpx.Client] = []

    def open_stream(headers: dict[str, str], **params: Any) -> tuple[httpx.Response, SseReader | None]:
        client = httpx.Client(timeout=httpx.Timeout(DEADLINE, read=None))
        clients.append(client)
        request = client.build_request("GET", f"http://{server}/api/v1/scheduler/events/stream", headers=headers,
                                       params=params)
        response = client.send(request, stream=True)
        return response, (SseReader(response) if response.status_code == 200 else None)

    yield open_stream
    for client in clients:
        client.close()


def _kinds(frames: list[dict[str, Any]]) -> list[str]:
    return [f["event"] for f in frames]


def test_sse_sends_the_same_messages_with_event_id_and_data_then_resumes_with_last_event_id(sse, runtime, gw,  # noqa: F811
                                                                                          sse_headers):
    now = datetime.now(UTC)
    positions = save(runtime, *[succeeded(gw, f"job_{i}", now, 3) for i in range(3)])
    response, reader = sse(sse_headers, after=positions[1])
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = reader.until(lambda fs: "caught_up" in _kinds(fs))
    assert _kinds(frames) == ["auth_ok", *["job_started", "job_completed"] * 2, "caught_up"]
    assert json.loads(frames[0]["data"]) == {"gateway_id": gw, "type": "auth_ok"} and "id" not in frames[0]
    assert [int(f["id"]) for f in frames[1:5]] == positions[2:]
    assert all(json.loads(f["data"])["position"] == int(f["id"]) for f in frames[1:])
    assert json.loads(frames[4]["data"])["data"]["duration_ms"] == 3
    live = save(runtime, succeeded(gw, "job_live", now, 4))
    frames = reader.until(lambda fs: any(f.get("id") == str(live[1]) for f in fs))
    assert [int(f["id"]) for f in frames[6:]] == live
    response.close()

    # Last-Event-ID (what an EventSource sends on reconnect) wins over ?after=
    response, reader = sse({**sse_headers, "Last-Event-ID": str(live[0])}, after=0)
    frames = reader.until(lambda fs: "caught_up" in _kinds(fs))
    assert [(f["event"], f.get("id")) for f in frames[1:-1]] == [("job_completed", str(live[1]))]
    response.close()


def test_sse_filters_and_the_session_cookie(sse, runtime, gw):  # noqa: F811
    cookie = {"Cookie": f"session_token={token('viewer', [gw])}", "X-Gateway-ID": gw}
    response, reader = sse(cookie, types="job_completed", job_ids="job_keep")
    reader.until(lambda fs: "caught_up" in _kinds(fs))
    now = datetime.now(UTC)
    save(runtime, succeeded(gw, "job_drop", now, 1))
    keep = save(runtime, succeeded(gw, "job_keep", now, 1))
    frames = reader.until(lambda fs: any(f.get("id") == str(keep[1]) for f in fs))
    assert [(f["event"], f.get("id")) for f in frames[2:]] == [("job_completed", str(keep[1]))]
    response.close()


@pytest.mark.parametrize(("headers", "params", "status", "code"), [
    ({}, {}, 401, "UNAUTHORIZED"),
    ({"X-Gateway-ID": "gw-not-granted"}, {}, 403, "FORBIDDEN"),
    ({"Last-Event-ID": "12x"}, {}, 400, "VALIDATION_ERROR"),
    ({}, {"after": "-1"}, 400, "VALIDATION_ERROR"),
    ({}, {"types": "job_exploded"}, 400, "VALIDATION_ERROR"),
])
def test_sse_refusals_are_the_apis_envelopes(sse, gw, sse_headers, headers, params, status, code):  # noqa: F811
    base = {} if status == 401 else sse_headers
    response, _ = sse({**base, **headers}, **params)
    response.read()
    assert response.status_code == status, response.text
    assert response.json()["success"] is False and response.json()["error"]["code"] == code


def test_sse_ends_with_resync_required_after_a_pruned_position(sse, runtime, gw, sse_headers):  # noqa: F811
    long_ago = datetime(2000, 1, 4, tzinfo=UTC)
    first = save_and_project(runtime, succeeded(gw, "job_old", long_ago, 5))
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        while prune_executions(conn, datetime(2000, 2, 1, tzinfo=UTC)).executions:
            pass
    response, reader = sse(sse_headers, after=first[0][1] - 1)
    frames = reader.until(lambda fs: "end" in _kinds(fs))
    assert _kinds(frames) == ["auth_ok", "resync_required", "end"]
    assert frames[1]["id"] == str(first[1][1])  # an EventSource's reconnect resumes from the oldest available
    assert json.loads(frames[2]["data"]) == {"type": "end", "code": 4410,
                                             "reason": "Events after this position were pruned: resync"}
    response.close()


def test_the_openapi_document_describes_the_stream(server):  # noqa: F811
    document = httpx.get(f"http://{server}/schema/openapi.json", timeout=DEADLINE).json()
    operation = document["paths"]["/api/v1/scheduler/events/stream"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/event-stream"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {("header", "Last-Event-ID"), ("header", "X-Gateway-ID"), ("query", "after"), ("query", "types"),
            ("query", "job_ids"), ("query", "tags")} <= parameters
    assert {"401", "403", "400"} <= set(operation["responses"])


def _subscribers(app: Any, gateway_id: str) -> int:
    return len(app.state.feed._subscribers.get(gateway_id, ()))


def test_an_sse_client_that_goes_away_is_unsubscribed(served, gw, sse_headers):  # noqa: F811
    """When the server sees the connection close (Litestar's disconnect listener cancels the
    stream). The lines are read from one iterator kept open: leaving a `for` over a fresh
    `iter_lines()` finalises it, and httpcore then closes the connection at once."""
    server, app = served  # noqa: F811
    with httpx.Client(timeout=httpx.Timeout(DEADLINE, read=DEADLINE)) as client:
        with client.stream("GET", f"http://{server}/api/v1/scheduler/events/stream", headers=sse_headers) as response:
            lines = response.iter_lines()
            for line in lines:
                if line == "event: caught_up":
                    break
            assert _subscribers(app, gw) == 1
    assert wait_until(lambda: not _subscribers(app, gw), timeout=DEADLINE), "the stream's subscriber outlived its client"


def _sse_scope(gateway_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/api/v1/scheduler/events/stream", "raw_path": b"/api/v1/scheduler/events/stream",
            "root_path": "", "query_string": b"", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "state": {}}


def test_an_sse_client_that_goes_away_while_a_write_to_it_waits_is_unsubscribed_when_the_response_ends(
        served, gw, sse_headers):  # noqa: F811
    """A slow client's write waits for its TCP window (uvicorn's flow control): the disconnect then
    cancels the stream outside the message generator, which Litestar leaves suspended, not closed.
    Its subscriber must go when the response ends, not when the garbage collector finds it
    (collection is off here, so only an explicit close can remove it)."""
    _, app = served  # noqa: F811

    async def scenario() -> tuple[int, int]:
        blocked, gone = asyncio.Event(), asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and b"event: caught_up" in message.get("body", b""):
                blocked.set()
                await asyncio.Event().wait()  # the client reads no more: this write never completes

        response = asyncio.ensure_future(app(_sse_scope(gw, sse_headers), receive, send))
        await asyncio.wait_for(blocked.wait(), DEADLINE)
        while_open = _subscribers(app, gw)
        gone.set()
        await asyncio.wait_for(response, DEADLINE)
        return while_open, _subscribers(app, gw)  # no await between: no finaliser has run

    gc.disable()
    try:
        # A loop of its own on a thread of its own: a test before this one (the browser tests'
        # Playwright) may leave an event loop running on the main thread.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, scenario()).result(timeout=3 * DEADLINE) == (1, 0)
    finally:
        gc.enable()
