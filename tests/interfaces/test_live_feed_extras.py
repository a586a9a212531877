"""The live feed beyond its core, over a real socket (the real app under uvicorn, the real
PostgreSQL): the tags filter, resync_required after a real prune and past the backlog limit,
resource_alert from the sampler, and the documented Python client. Server-Sent Events:
test_live_feed_sse.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from domain.execution import Execution
from interfaces.database import conninfo
from interfaces.maintenance import prune_executions
from interfaces.resources import ResourceSampler, psutil_readings
from interfaces.ws import mailbox as mailbox_module
from interfaces.ws import session as session_module
from tests.conftest import job_body, token
from tests.interfaces.test_live_feed import (  # noqa: F401 - fixtures
    DEADLINE,
    caught_up,
    ended,
    gw,
    has_positions,
    read_until,
    save,
    served,
    server,
    subscribed,
)
from tests.projections.execution_events import new_execution_id, succeeded

PROJECTED = 60.0  # the read models may be behind the log by earlier tests' bursts on a loaded machine


def save_and_project(runtime: Any, *executions: Execution) -> tuple[tuple[str, int], ...]:
    """Saved, and in the read models (retention prunes what they list)."""
    recorded = tuple((r.notification.topic, r.notification.id) for r in runtime.app.save(*executions))
    assert runtime.wait(recorded, timeout=PROJECTED), "the projections did not catch up"
    return recorded


def tagged_run(gateway_id: str, job_id: str, tags: tuple[str, ...], at: datetime) -> Execution:
    run = Execution.start(gateway_id=gateway_id, job_id=job_id, execution_id=new_execution_id(), job_name="J",
                          trigger="scheduled", scheduled_for=at, now=at, tags=tags)
    run.succeed(now=at, duration_ms=1, message="", logs=[])
    return run


def events(ws: Any, done: Any) -> list[dict[str, Any]]:
    return [m for m in read_until(ws, done) if m["type"] not in ("caught_up", "heartbeat")]


# ---- tags ------------------------------------------------------------------------------------


def test_the_tags_filter_passes_the_messages_of_jobs_with_one_of_the_tags(server, runtime, gw):  # noqa: F811
    ws = subscribed(server, gw, tags=["modbus", "hvac"])
    read_until(ws, caught_up)
    now = datetime.now(UTC)
    save(runtime, tagged_run(gw, "job_other", ("backup",), now), tagged_run(gw, "job_untagged", (), now))
    kept = save(runtime, tagged_run(gw, "job_m", ("modbus", "polling"), now), tagged_run(gw, "job_h", ("hvac",), now))
    headers = {"Authorization": f"Bearer {token('operator', [gw])}", "X-Gateway-ID": gw}
    base = f"http://{server}/api/v1/scheduler/jobs"
    api = httpx.Client(headers=headers, timeout=PROJECTED)  # a command waits for the read models
    dropped = api.post(base, json=job_body(tags=["backup"])).json()["data"]["job_id"]
    assert api.post(f"{base}/{dropped}/toggle", json={"enabled": False}).status_code == 200
    job_id = api.post(base, json=job_body(tags=["hvac"])).json()["data"]["job_id"]
    assert api.post(f"{base}/{job_id}/toggle", json={"enabled": False}).status_code == 200
    api.close()
    got = events(ws, lambda ms: sum(m["type"] == "job_toggled" for m in ms) == 1)
    assert [(m["type"], m["data"]["job_id"]) for m in got] == [
        ("job_started", "job_m"), ("job_completed", "job_m"), ("job_started", "job_h"), ("job_completed", "job_h"),
        ("job_created", job_id), ("job_toggled", job_id),
    ]
    assert [m["position"] for m in got[:4]] == kept
    ws.close()


# ---- resync_required -------------------------------------------------------------------------


def test_a_resume_from_before_a_real_prune_gets_resync_required_with_the_oldest_position(server, runtime, gw):  # noqa: F811
    long_ago = datetime(2000, 1, 3, tzinfo=UTC)
    first = save_and_project(runtime, succeeded(gw, "job_old", long_ago, 5), succeeded(gw, "job_old", long_ago, 6))
    kept = save_and_project(runtime, succeeded(gw, "job_new", datetime.now(UTC), 7))
    first_positions = [p for _, p in first]
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        while prune_executions(conn, datetime(2000, 2, 1, tzinfo=UTC)).executions:
            pass
        mark = conn.execute("SELECT position FROM feed_low_water WHERE gateway_id = %s", (gw,)).fetchone()[0]
    assert mark == max(first_positions)  # recorded durably, in the pruning transaction

    messages, code = ended(subscribed(server, gw, after=first_positions[0] - 1))
    assert messages == [{"reason": "retention", "position": mark, "type": "resync_required"}]
    assert code == 4410

    resumed = subscribed(server, gw, after=mark)  # from the oldest available position: complete
    got = [m for m in read_until(resumed, caught_up) if m["type"] != "caught_up"]
    assert [m["position"] for m in got] == [p for _, p in kept]
    resumed.close()
    other = f"gw-{uuid.uuid4().hex[:10]}"  # another gateway's resume is not affected
    assert [m["type"] for m in read_until(subscribed(server, other, after=0), caught_up)] == ["caught_up"]


def test_a_client_too_far_behind_gets_resync_required_with_its_last_delivered_position(served, runtime, gw,  # noqa: F811
                                                                                       monkeypatch):
    server, app = served  # noqa: F811
    monkeypatch.setattr(mailbox_module, "QUEUE_SIZE", 2)
    monkeypatch.setattr(session_module, "BACKLOG_LIMIT", 10)
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    (subscriber,) = app.state.feed._subscribers[gw]
    now = datetime.now(UTC)
    positions = save(runtime, *[succeeded(gw, f"job_{i}", now, 1) for i in range(60)])  # 120 events, one commit
    messages, code = ended(ws)
    assert code == 4410 and subscriber.overflows > 0
    *delivered, resync = messages
    assert resync["type"] == "resync_required" and resync["reason"] == "backlog"
    got = [m["position"] for m in delivered]
    assert got == positions[:len(got)]  # in order, no gap, no duplicate up to the resync
    assert resync["position"] == got[-1] if got else resync["position"] < positions[0]
    assert resync["position"] < positions[-1]
    resumed = subscribed(server, gw, after=resync["position"])  # the rest is in the log
    rest = [m["position"] for m in read_until(resumed, caught_up) if m["type"] != "caught_up"]
    assert got + rest == positions
    resumed.close()


# ---- resource_alert --------------------------------------------------------------------------


def test_the_sampler_raises_and_clears_alerts_with_hysteresis_and_they_reach_the_feed(server, runtime, gw):  # noqa: F811
    readings = iter([{"cpu": 50.0, "memory": 10.0}, {"cpu": 91.0, "memory": 10.0}, {"cpu": 89.0, "memory": 10.0},
                     {"cpu": 86.0, "memory": 10.0}, {"cpu": 84.9, "memory": 10.0}, {"cpu": 84.0, "memory": 10.0}])
    sampler = ResourceSampler(runtime.app, gw, lambda: next(readings), {"cpu": 90.0, "memory": 90.0}, 5.0, every=0)
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    recorded = [sampler.sample_once() for _ in range(6)]
    assert [len(r) for r in recorded] == [0, 2, 0, 0, 1, 0]  # Created + AlertRaised; nothing; AlertCleared
    got = events(ws, lambda ms: any(m["type"] == "resource_alert" and m["data"]["state"] == "cleared" for m in ms))
    assert [(m["data"]["state"], m["data"]["resource"], m["data"]["usage_percent"]) for m in got] == [
        ("raised", "cpu", 91.0), ("cleared", "cpu", 84.9)]
    assert got[0]["data"]["level"] == "warning" and got[0]["data"]["message"].startswith("High CPU usage")
    ws.close()
    replay = subscribed(server, gw, after=0)  # alerts are events in the log: a resumed client sees them
    assert [m["type"] for m in read_until(replay, caught_up)] == ["resource_alert", "resource_alert", "caught_up"]
    replay.close()


def test_the_psutil_sampler_raises_an_alert_through_a_low_threshold(server, runtime, gw, tmp_path):  # noqa: F811
    sampler = ResourceSampler(runtime.app, gw, psutil_readings(tmp_path), {"disk": 0.01}, 0.0, every=0.05).start()
    ws = subscribed(server, gw, after=0)
    try:
        got = events(ws, lambda ms: any(m["type"] == "resource_alert" for m in ms))
    finally:
        sampler.stop()
    assert got[0]["data"]["resource"] == "disk" and got[0]["data"]["state"] == "raised"
    assert 0.01 <= got[0]["data"]["usage_percent"] <= 100
    ws.close()


# ---- the documented client -------------------------------------------------------------------


class _Enough(Exception):
    pass


def test_the_documented_client_resumes_through_a_resync_and_gets_what_was_kept(server, runtime, gw):  # noqa: F811
    """The Python block of docs/live-feed.md, run as written: resumed from before a prune, it hands
    over resync_required, reconnects from its position on the 4410 close, and gets the kept run."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "live-feed.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/live-feed.md", "exec"), namespace)  # noqa: S102 - the project's own document
    long_ago = datetime(2000, 1, 5, tzinfo=UTC)
    old = save_and_project(runtime, succeeded(gw, "job_old", long_ago, 5))
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        while prune_executions(conn, datetime(2000, 2, 1, tzinfo=UTC)).executions:
            pass
    kept = save(runtime, succeeded(gw, "job_new", datetime.now(UTC), 7))
    handled: list[dict[str, Any]] = []

    def handle(message: dict[str, Any]) -> None:
        handled.append(message)
        if message.get("position") == kept[-1]:
            raise _Enough

    with pytest.raises(_Enough):
        namespace["follow"](f"ws://{server}/api/v1/scheduler/ws", token("viewer", [gw]), gw, handle,
                            after=old[0][1] - 1)
    assert [(m["type"], m["position"]) for m in handled] == [
        ("resync_required", old[-1][1]), ("job_started", kept[0]), ("job_completed", kept[1])]
