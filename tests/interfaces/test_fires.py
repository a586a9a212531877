"""GET /jobs/{id}/fires on the real database: the job's versions from the audit read model and
its executions from the execution history, recorded as a dispatcher records them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.execution import Execution
from domain.identity import execution_id as derive_execution_id
from tests.application.dispatch_support import wait_until
from tests.conftest import Api, job_body


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _record(runtime: Any, execution: Execution) -> None:
    recordings = runtime.app.record([execution])
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings))


def _start(api: Api, job_id: str, instant: datetime | None, trigger: str = "scheduled", **kw: Any) -> Execution:
    kind = "manual" if trigger == "manual" else "scheduled"
    return Execution.start(
        gateway_id=api.gateway_id, job_id=job_id, execution_id=derive_execution_id(job_id, kind, instant or kw["now"]),
        job_name="Fires", trigger=trigger, scheduled_for=instant, now=kw.pop("now", instant), **kw)


def test_fires_explains_runs_a_retry_a_miss_a_manual_run_and_the_disabled_instants(api: Api, runtime: Any) -> None:
    job_id = _ok(api.post("/jobs", job_body(name="Fires", schedule={"interval_seconds": 3600})), 201)["job_id"]
    first = _at(_ok(api.get(f"/jobs/{job_id}"))["job"]["next_execution"])
    hour = timedelta(hours=1)
    ok_run = _start(api, job_id, first)
    ok_run.succeed(now=first + timedelta(seconds=1), duration_ms=1000, message="ok", logs=[])
    retried = _start(api, job_id, first + hour, max_attempts=2)
    retried.fail(now=first + hour, duration_ms=5, code="ACTION_FAILED", error="broker away", logs=[])
    retried.retry(now=first + hour + timedelta(seconds=5))
    retried.succeed(now=first + hour + timedelta(seconds=6), duration_ms=5, message="ok", logs=[])
    missed = Execution.missed(gateway_id=api.gateway_id, job_id=job_id,
                              execution_id=derive_execution_id(job_id, "scheduled", first + 2 * hour),
                              job_name="Fires", scheduled_for=first + 2 * hour, now=first + 2 * hour,
                              reason="missed before this takeover (misfire_policy=skip)")
    manual = _start(api, job_id, None, trigger="manual", now=first + 30 * timedelta(minutes=1), actor="alice")
    for execution in (ok_run, retried, missed, manual):
        _record(runtime, execution)
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "holiday"}))
    audit = _ok(api.get(f"/jobs/{job_id}/audit"))["entries"]
    disabled_at = _at(audit[0]["timestamp"])

    found = _ok(api.get(f"/jobs/{job_id}/fires", params={"from": _iso(first - hour), "to": _iso(first + 4 * hour)}))
    fires = found["fires"]
    # The job was disabled a moment after creation (before `first`): every instant is disabled
    # unless a run was recorded for it, which shows what happened instead.
    assert [(f["instant"], f["status"]) for f in fires] == [
        (_iso(first), "fired"), (_iso(first + 30 * timedelta(minutes=1)), "manual"), (_iso(first + hour), "retried"),
        (_iso(first + 2 * hour), "missed"), (_iso(first + 3 * hour), "disabled"), (_iso(first + 4 * hour), "disabled")]
    assert fires[0]["execution_id"] == ok_run.execution_id and fires[0]["outcome"] == "success"
    assert fires[2]["attempts"] == 2 and fires[2]["outcome"] == "success"
    assert "misfire_policy=skip" in fires[3]["reason"]
    assert fires[1]["execution_id"] == manual.execution_id
    off = fires[4]
    assert (off["actor"], off["reason"], _at(off["since"]), off.get("until")) == ("tester", "holiday", disabled_at, None)
    assert found["count"] == 6 and found["truncated"] is False

    before = _ok(api.get(f"/jobs/{job_id}/fires", params={"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}))
    assert before["fires"] == []  # before the job existed
    too_long = api.get(f"/jobs/{job_id}/fires", params={"from": "2025-01-01T00:00:00Z", "to": "2025-01-09T00:00:00Z"})
    assert too_long.status_code == 400 and too_long.json()["error"]["details"]["max_days"] == 7
    backwards = api.get(f"/jobs/{job_id}/fires", params={"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"})
    assert backwards.status_code == 400
    assert api.get(f"/jobs/{job_id}/fires", params={"from": "soon", "to": "later"}).status_code == 400
    assert api.get("/jobs/nope/fires", params={"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}).status_code == 404


def test_fires_explains_an_overlap_skip_a_cancellation_a_late_fire_and_the_spans_outside_the_bounds(
    api: Api, runtime: Any,
) -> None:
    minute = timedelta(minutes=1)
    start_at = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    schedule = {"interval_seconds": 600, "start_at": _iso(start_at), "end_at": _iso(start_at + 35 * minute)}
    job_id = _ok(api.post("/jobs", job_body(name="Fires", schedule=schedule)), 201)["job_id"]
    fired = _start(api, job_id, start_at)
    fired.succeed(now=start_at + minute, duration_ms=60_000, message="ok", logs=[])
    overlap = Execution.missed(gateway_id=api.gateway_id, job_id=job_id, job_name="Fires",
                               execution_id=derive_execution_id(job_id, "scheduled", start_at + 10 * minute),
                               scheduled_for=start_at + 10 * minute, now=start_at + 10 * minute,
                               reason="skipped: the previous run was still running")
    cancelled = _start(api, job_id, start_at + 20 * minute)
    cancelled.cancel(now=start_at + 20 * minute)
    late = Execution.start(gateway_id=api.gateway_id, job_id=job_id, job_name="Fires", trigger="misfire",
                           execution_id=derive_execution_id(job_id, "scheduled", start_at + 30 * minute),
                           scheduled_for=start_at + 30 * minute, now=start_at + 33 * minute)
    late.succeed(now=start_at + 34 * minute, duration_ms=5, message="ok", logs=[])
    for execution in (fired, overlap, cancelled, late):
        _record(runtime, execution)

    window = {"from": _iso(start_at - 5 * minute), "to": _iso(start_at + 50 * minute)}
    fires = _ok(api.get(f"/jobs/{job_id}/fires", params=window))["fires"]
    assert [(f["instant"], f["status"]) for f in fires] == [
        (_iso(start_at - 5 * minute), "outside_bounds"), (_iso(start_at), "fired"),
        (_iso(start_at + 10 * minute), "skipped_overlap"), (_iso(start_at + 20 * minute), "cancelled"),
        (_iso(start_at + 30 * minute), "fired_late"), (_iso(start_at + 35 * minute), "outside_bounds")]
    before, after = fires[0], fires[-1]
    assert (_at(before["until"]), _at(before["start_at"])) == (start_at, start_at)
    assert (_at(after["until"]), _at(after["end_at"])) == (start_at + 50 * minute, start_at + 35 * minute)
    assert "previous run was still running" in fires[2]["reason"] and "changed before this run" in fires[3]["reason"]
    assert (fires[4]["trigger"], fires[4]["outcome"], _at(fires[4]["started_at"])) == (
        "misfire", "success", start_at + 33 * minute)


def _passed(instant: datetime) -> None:
    """Wait (with a deadline) until the job's instant lies in the past, by the server's clock."""
    assert wait_until(lambda: datetime.now(UTC) > instant + timedelta(milliseconds=200), timeout=30)


def test_fires_switch_versions_at_a_toggle_and_an_edit_mid_window_and_name_when_it_was_enabled_again(
    api: Api, runtime: Any,
) -> None:
    job_id = _ok(api.post("/jobs", job_body(name="Edited", schedule={"interval_seconds": 1})), 201)["job_id"]
    _passed(_at(_ok(api.get(f"/jobs/{job_id}"))["job"]["next_execution"]))
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "pause"}))
    stamps = {e["version"]: _at(e["timestamp"]) for e in _ok(api.get(f"/jobs/{job_id}/audit"))["entries"]}
    _passed(stamps[2] + timedelta(seconds=1))  # an instant falls while it is disabled
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": True, "reason": "resume"}))
    _ok(api.put(f"/jobs/{job_id}", {"schedule": {"interval_seconds": 3600}}))
    stamps = {e["version"]: _at(e["timestamp"]) for e in _ok(api.get(f"/jobs/{job_id}/audit"))["entries"]}

    window = {"from": _iso(stamps[1]), "to": _iso(stamps[4] + timedelta(hours=2, seconds=1))}
    fires = _ok(api.get(f"/jobs/{job_id}/fires", params=window))["fires"]
    by_version: dict[int, list[dict[str, Any]]] = {}
    for entry in fires:
        by_version.setdefault(entry["version"], []).append(entry)
    for version, entries in by_version.items():  # each instant lies where its version was in force
        following = stamps.get(version + 1, _at(window["to"]))
        assert all(stamps[version] < _at(e["instant"]) <= following for e in entries), version
    assert by_version[1] and {e["status"] for e in by_version[1]} <= {"pending", "not_recorded"}
    assert by_version[2] and {e["status"] for e in by_version[2]} == {"disabled"}
    assert all((e["actor"], e["reason"], _at(e["since"]), _at(e["until"])) == ("tester", "pause", stamps[2], stamps[3])
               for e in by_version[2])
    hourly = [_at(e["instant"]) for e in by_version[4]]
    assert [e["status"] for e in by_version[4]] == ["upcoming", "upcoming"]
    assert hourly[1] - hourly[0] == timedelta(hours=1) and stamps[4] < hourly[0] <= stamps[4] + timedelta(hours=1)
    ones = [_at(e["instant"]) for v in (1, 2, 3) for e in by_version.get(v, [])]
    assert all(b - a == timedelta(seconds=1) for a, b in zip(ones, ones[1:], strict=False))  # the old schedule's step
