"""The live feed over a real socket: the real app under uvicorn on a free port, the `websockets`
client, the real PostgreSQL. Each wait waits for the condition it asserts, with a deadline."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from interfaces.app import create_app
from interfaces.ws import mailbox as mailbox_module
from interfaces.ws import session as session_module
from tests.conftest import job_body, token
from tests.projections.execution_events import failed, missed, started, succeeded

DEADLINE = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(runtime: Any) -> Iterator[tuple[str, Any]]:
    """(host:port, the app) of the real app under uvicorn."""
    port = _free_port()
    app = create_app(runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                            ws="websockets-sansio" if _has_sansio() else "websockets")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(served: tuple[str, Any]) -> str:
    return served[0]


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True


def open_feed(server: str, **auth: Any) -> ClientConnection:
    ws = connect(f"ws://{server}/api/v1/scheduler/ws", open_timeout=DEADLINE)
    ws.send(json.dumps({"type": "auth", **auth}))
    return ws


def subscribed(server: str, gateway_id: str, role: str = "viewer", **auth: Any) -> ClientConnection:
    ws = open_feed(server, token=token(role, [gateway_id]), gateway_id=gateway_id, **auth)
    assert json.loads(ws.recv(timeout=DEADLINE)) == {"gateway_id": gateway_id, "type": "auth_ok"}
    return ws


def read_until(ws: ClientConnection, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Messages until `done(messages)` holds; fails at the deadline with what came."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE
    while not done(messages):
        left = deadline - time.monotonic()
        assert left > 0, f"gave up waiting; received {messages}"
        try:
            messages.append(json.loads(ws.recv(timeout=left)))
        except TimeoutError:
            continue
    return messages


def caught_up(messages: list[dict[str, Any]]) -> bool:
    return bool(messages) and messages[-1]["type"] == "caught_up"


def has_positions(expected: set[int]) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda messages: expected <= {m.get("position") for m in messages if m["type"] != "caught_up"}


def closed_with(ws: ClientConnection) -> int | None:
    """The close code, after any messages still to come."""
    return ended(ws)[1]


def ended(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """The messages until the server closes, and its close code."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"not closed; received {messages}"
            messages.append(json.loads(ws.recv(timeout=left)))
    return messages, closed.value.rcvd.code if closed.value.rcvd is not None else None


def refused_with(ws: ClientConnection) -> int | None:
    """The code of a refused auth message: exactly one `auth_invalid` naming it, then the close with it."""
    messages, code = ended(ws)
    assert [m["type"] for m in messages] == ["auth_invalid"], messages
    assert messages[0]["code"] == code and messages[0]["reason"]
    return code


def save(runtime: Any, *executions: Any) -> list[int]:
    return [r.notification.id for r in runtime.app.save(*executions)]


@pytest.fixture
def gw() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


# ---- auth ----------------------------------------------------------------------------------


def test_a_socket_without_a_token_gets_auth_invalid_and_is_closed_4401(server):
    assert refused_with(open_feed(server)) == 4401


def test_a_socket_with_a_bad_token_gets_auth_invalid_and_is_closed_4401(server):
    assert refused_with(open_feed(server, token="not-a-jwt")) == 4401


def test_a_socket_with_an_expired_token_gets_auth_invalid_and_is_closed_4401(server, gw):
    import jwt

    from tests.conftest import JWT_SECRET

    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    expired = jwt.encode({"sub": "late", "exp": past, "iat": past - 60, "role": "viewer", "gateways": [gw]},
                         JWT_SECRET, algorithm="HS256")
    assert refused_with(open_feed(server, token=expired, gateway_id=gw)) == 4401


def test_a_socket_asking_for_a_gateway_its_token_does_not_grant_is_closed_4403(server, gw):
    assert refused_with(open_feed(server, token=token("viewer", [gw]), gateway_id="gw-someone-else")) == 4403


@pytest.mark.parametrize("bad", [{"after": -1}, {"after": "3"}, {"types": ["job_exploded"]}, {"job_ids": "job_1"},
                                 {"tags": [1]}, {"tags": "modbus"}])
def test_a_malformed_subscription_is_closed_4400(server, gw, bad):
    assert refused_with(open_feed(server, token=token("viewer", ["*"]), gateway_id=gw, **bad)) == 4400


def test_a_malformed_gateway_id_is_closed_4400(server):
    assert refused_with(open_feed(server, token=token("viewer", ["*"]), gateway_id="bad gateway")) == 4400


def test_a_first_message_that_is_not_json_is_closed_4400(server):
    ws = connect(f"ws://{server}/api/v1/scheduler/ws", open_timeout=DEADLINE)
    ws.send("{not json")
    assert refused_with(ws) == 4400


def test_a_first_message_that_is_not_an_object_is_closed_4401(server):
    ws = connect(f"ws://{server}/api/v1/scheduler/ws", open_timeout=DEADLINE)
    ws.send("[1, 2]")
    assert refused_with(ws) == 4401


@pytest.mark.slow
def test_a_socket_that_says_nothing_is_closed_4401_after_5_seconds(server):
    ws = connect(f"ws://{server}/api/v1/scheduler/ws", open_timeout=DEADLINE)
    assert refused_with(ws) == 4401


def test_a_socket_is_closed_4401_when_its_token_expires(server, gw):
    from interfaces.auth import issue_token
    from tests.conftest import JWT_SECRET

    short = issue_token(JWT_SECRET, subject="brief", role="viewer", gateways=[gw], ttl=timedelta(seconds=2))
    ws = open_feed(server, token=short, gateway_id=gw)
    assert [m["type"] for m in read_until(ws, caught_up)] == ["auth_ok", "caught_up"]
    assert closed_with(ws) == 4401


# ---- live ----------------------------------------------------------------------------------


def test_a_viewer_sees_a_job_created_and_a_run_started_and_completed_with_their_positions(server, runtime, gw):
    ws = subscribed(server, gw, role="viewer")
    assert caught_up(read_until(ws, caught_up))
    answer = httpx.post(f"http://{server}/api/v1/scheduler/jobs", json=job_body(),
                        headers={"Authorization": f"Bearer {token('operator', [gw])}", "X-Gateway-ID": gw})
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["data"]["job_id"]
    created = read_until(ws, lambda ms: any(m["type"] == "job_created" for m in ms))[-1]
    assert created["data"]["job_id"] == job_id and created["data"]["job_name"] == "Modbus Poll"
    assert created["timestamp"].endswith("Z") and created["position"] > 0

    run = succeeded(gw, job_id, datetime.now(UTC), 120)
    positions = save(runtime, run)
    messages = read_until(ws, has_positions(set(positions)))
    assert [(m["type"], m["position"]) for m in messages] == [("job_started", positions[0]), ("job_completed", positions[1])]
    assert messages[1]["data"] == {"job_id": job_id, "job_name": "Modbus Poll", "execution_id": run.execution_id,
                                   "status": "success", "duration_ms": 120}
    ws.close()


def test_failed_and_missed_runs_arrive_as_job_failed_and_job_missed(server, runtime, gw):
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    now = datetime.now(UTC)
    positions = save(runtime, failed(gw, "job_x", now, 5, error="Connection timeout"), missed(gw, "job_x", now))
    messages = read_until(ws, has_positions(set(positions)))
    assert [m["type"] for m in messages] == ["job_started", "job_failed", "job_missed"]
    assert messages[1]["data"]["error"] == "Connection timeout" and messages[1]["data"]["retry_count"] == 0
    assert messages[2]["data"]["reason"] == "gateway was offline"


def test_nothing_of_another_gateway_is_sent(server, runtime, gw):
    other = f"gw-{uuid.uuid4().hex[:10]}"
    ws = open_feed(server, token=token("viewer", ["*"]), gateway_id=gw, after=0)
    messages = read_until(ws, caught_up)  # the whole log so far: none of it is another gateway's
    now = datetime.now(UTC)
    save(runtime, succeeded(other, "job_b", now, 1))  # before ours: had it leaked, it would come first
    ours = save(runtime, started(gw, "job_a", now))
    messages += read_until(ws, has_positions(set(ours)))
    foreign = [m for m in messages if m["type"] not in ("auth_ok", "caught_up") and m["data"]["job_id"] == "job_b"]
    assert foreign == []
    assert all(m.get("gateway_id", gw) == gw for m in messages)
    ws.close()


def test_filters_by_type_and_job_id(server, runtime, gw):
    ws = subscribed(server, gw, types=["job_completed"], job_ids=["job_keep"])
    read_until(ws, caught_up)
    now = datetime.now(UTC)
    save(runtime, succeeded(gw, "job_drop", now, 1))
    keep = save(runtime, succeeded(gw, "job_keep", now, 1))
    messages = read_until(ws, has_positions({keep[1]}))
    assert [(m["type"], m["data"]["job_id"], m["position"]) for m in messages] == [("job_completed", "job_keep", keep[1])]


def test_a_quiet_connection_gets_heartbeats_carrying_its_cursor(server, runtime, gw, monkeypatch):
    monkeypatch.setattr(session_module, "HEARTBEAT_SECONDS", 0.2)
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    ours = save(runtime, started(gw, "job_h", datetime.now(UTC)))
    messages = read_until(ws, lambda ms: any(m["type"] == "heartbeat" and m["position"] >= ours[0] for m in ms))
    assert [m["type"] for m in messages if m["type"] != "heartbeat"] == ["job_started"]
    ws.close()


# ---- resume ----------------------------------------------------------------------------------


def test_resume_after_p_gives_exactly_the_events_after_p_then_caught_up(server, runtime, gw):
    now = datetime.now(UTC)
    positions = save(runtime, *[succeeded(gw, f"job_{i}", now + timedelta(seconds=i), 10) for i in range(5)])
    after = positions[3]  # the 2nd run's Succeeded
    ws = subscribed(server, gw, after=after)
    messages = read_until(ws, caught_up)
    assert [m["position"] for m in messages[:-1]] == positions[4:]
    assert messages[-1]["position"] >= positions[-1]
    assert [m["type"] for m in messages[:-1]] == ["job_started", "job_completed"] * 3
    ws.close()


def test_resume_from_the_start_gives_the_job_events_of_the_gateway_in_order(server, runtime, gw):
    headers = {"Authorization": f"Bearer {token('operator', [gw])}", "X-Gateway-ID": gw}
    base = f"http://{server}/api/v1/scheduler/jobs"
    job_id = httpx.post(base, json=job_body(), headers=headers).json()["data"]["job_id"]
    assert httpx.put(f"{base}/{job_id}", json={"name": "Renamed"}, headers=headers).status_code == 200
    assert httpx.post(f"{base}/{job_id}/toggle", json={"enabled": False}, headers=headers).status_code == 200
    assert httpx.delete(f"{base}/{job_id}", headers=headers).status_code in (200, 204)
    ws = subscribed(server, gw, after=0)
    messages = read_until(ws, caught_up)[:-1]
    assert [m["type"] for m in messages] == ["job_created", "job_updated", "job_toggled", "job_deleted"]
    assert {m["data"]["job_id"] for m in messages} == {job_id}
    assert messages[1]["data"]["job_name"] == "Renamed" and messages[2]["data"]["enabled"] is False
    positions = [m["position"] for m in messages]
    assert positions == sorted(set(positions))


def test_a_resume_during_a_burst_gets_every_event_exactly_once(server, runtime, gw):
    """The seam: the client resumes while another thread keeps writing; history then live must
    join with no gap and no duplicate."""
    now = datetime.now(UTC)
    first = save(runtime, *[started(gw, f"job_{i}", now) for i in range(3)])
    written: list[int] = list(first)

    def burst() -> None:
        for i in range(40):
            written.extend(save(runtime, succeeded(gw, f"job_b{i}", now, 1)))

    writer = threading.Thread(target=burst)
    writer.start()
    ws = subscribed(server, gw, after=first[0])
    writer.join(timeout=60)
    assert not writer.is_alive()
    expected = [p for p in written if p > first[0]]
    messages = [m for m in read_until(ws, has_positions(set(expected))) if m["type"] != "caught_up"]
    got = [m["position"] for m in messages]
    assert got == sorted(got) and len(got) == len(set(got))  # in order, no duplicate
    assert got == expected  # no gap, nothing else
    ws.close()


@pytest.mark.parametrize("source", ["memory", "log"])
def test_a_connection_whose_queue_overflows_catches_up_from_memory_or_the_log(served, runtime, gw, monkeypatch, source):
    """From the hub's recent items, or from the log when they no longer reach back to the cursor."""
    server, app = served
    monkeypatch.setattr(mailbox_module, "QUEUE_SIZE", 2)
    if source == "log":
        monkeypatch.setattr(app.state.feed, "recent", lambda gateway_id, after: None)
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    (subscriber,) = app.state.feed._subscribers[gw]
    now = datetime.now(UTC)
    positions = save(runtime, *[succeeded(gw, f"job_{i}", now, 1) for i in range(60)])  # 120 events, one commit
    messages = [m for m in read_until(ws, has_positions(set(positions))) if m["type"] != "caught_up"]
    assert [m["position"] for m in messages] == positions
    assert subscriber.overflows > 0  # the catch-up path did the work
    ws.close()


# ---- across processes ------------------------------------------------------------------------

_WRITER = """
import json, sys
from datetime import UTC, datetime
from application.scheduler import Scheduler
from interfaces.database import eventsourcing_env
from tests.projections.execution_events import succeeded
url, gateway_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = Scheduler(eventsourcing_env(url, pool_size=2))
positions = []
for i in range(count):
    positions += [r.notification.id for r in app.save(succeeded(gateway_id, f"job_{i}", datetime.now(UTC), 1))]
app.close()
print(json.dumps(positions))
"""


def test_runs_recorded_by_another_process_reach_this_processs_socket(server, runtime, gw, database_url):
    """The database carries the feed (LISTEN/NOTIFY): a writer in another process, a socket here."""
    import subprocess
    import sys

    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    done = subprocess.run([sys.executable, "-c", _WRITER, database_url, gw, "5"], capture_output=True, text=True,
                          timeout=60, check=False, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    positions = json.loads(done.stdout.strip().splitlines()[-1])
    messages = [m for m in read_until(ws, has_positions(set(positions))) if m["type"] != "caught_up"]
    assert [m["position"] for m in messages] == positions
    ws.close()


def test_a_client_that_does_not_read_slows_no_one_and_loses_nothing(served, runtime, gw, monkeypatch):
    """While one client reads nothing, a burst is recorded and another client of the gateway gets
    all of it; then the slow one reads and gets every event exactly once."""
    server, app = served
    monkeypatch.setattr(mailbox_module, "QUEUE_SIZE", 20)
    slow = subscribed(server, gw)
    read_until(slow, caught_up)
    fast = subscribed(server, gw)
    read_until(fast, caught_up)
    now = datetime.now(UTC)
    positions: list[int] = []
    for batch in range(10):
        positions += save(runtime, *[succeeded(gw, f"job_{batch}_{i}", now, 1) for i in range(50)])
    got_fast = [m["position"] for m in read_until(fast, has_positions(set(positions))) if m["type"] != "caught_up"]
    assert got_fast == positions
    got_slow = [m["position"] for m in read_until(slow, has_positions(set(positions))) if m["type"] != "caught_up"]
    assert got_slow == positions
    slow.close()
    fast.close()
