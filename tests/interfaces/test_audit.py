"""Audit and time travel through the API on the real database: a job's audit with exact before and
after, the gateway's audit with filters, as_of between changes (deleted jobs included), revert,
undo of an operation (jobs changed since left alone unless forced) and the raw event log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from application.commands import CommandContext, CreateJob, ToggleJob
from tests.conftest import Api, job_body


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in entry["changes"]}


def _create(api: Api, **overrides: Any) -> str:
    return _ok(api.post("/jobs", job_body(**overrides)), 201)["job_id"]


def _operation(runtime: Any, gateway_id: str, commands: list[Any], actor: str = "bulk-tester") -> str:
    """Several commands under one operation id, as a bulk change or an import records them."""
    operation_id = f"op-{uuid.uuid4().hex[:8]}"
    for command in commands:
        saved = runtime.app.execute(command, CommandContext(actor, None, operation_id))
        assert runtime.wait(saved.recorded)
    return operation_id


def test_a_jobs_audit_names_every_change_with_exact_before_and_after(api: Api) -> None:
    job_id = _create(api, name="Poll", schedule={"interval_seconds": 10}, tags=["a"])
    _ok(api.put(f"/jobs/{job_id}", {"name": "Poll 2", "schedule": {"interval_seconds": 30}}))
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "maintenance window"}))
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": True, "reason": "done"}))
    _ok(api.put(f"/jobs/{job_id}", {"tags": ["a", "b"]}))
    _ok(api.delete(f"/jobs/{job_id}"))

    audit = _ok(api.get(f"/jobs/{job_id}/audit"))  # a deleted job keeps its audit
    entries = audit["entries"]
    assert audit["total"] == 6
    assert [e["version"] for e in entries] == [6, 5, 4, 3, 2, 1]  # newest first
    assert [e["action"] for e in entries] == ["deleted", "updated", "toggled", "toggled", "updated", "created"]
    assert {e["actor"] for e in entries} == {"tester"}
    assert all(e["request_id"] for e in entries) and all(e["operation_id"] is None for e in entries)
    deleted, tags, enabled, disabled, edited, created = entries
    assert _changes(deleted) == {"enabled": (True, False), "deleted": (False, True)}
    assert _changes(tags) == {"tags": (["a"], ["a", "b"])}
    assert _changes(enabled) == {"enabled": (False, True), "disabled_reason": ("maintenance window", "")}
    assert enabled["reason"] == "done"
    assert _changes(disabled) == {"enabled": (True, False), "disabled_reason": ("", "maintenance window")}
    assert disabled["reason"] == "maintenance window"
    assert _changes(edited) == {"name": ("Poll", "Poll 2"), "schedule.interval_seconds": (10, 30)}
    first = _changes(created)
    assert first["name"] == (None, "Poll") and first["enabled"] == (None, True) and first["tags"] == (None, ["a"])
    assert first["schedule"] == (None, {"interval_seconds": 10, "jitter_percentage": 0})

    page = _ok(api.get(f"/jobs/{job_id}/audit", params={"limit": 2, "offset": 2}))
    assert [e["version"] for e in page["entries"]] == [4, 3] and page["total"] == 6
    assert api.get("/jobs/no-such-job/audit").status_code == 404


def test_the_gateways_audit_filters_by_actor_action_instants_and_operation(api: Api, runtime: Any) -> None:
    a = _create(api, name="A")
    b = _create(api, name="B")
    operation_id = _operation(runtime, api.gateway_id, [ToggleJob(api.gateway_id, b, False, "bulk off")])
    everything = _ok(api.get("/audit"))
    assert everything["total"] == 3
    assert [(e["job_id"], e["action"]) for e in everything["entries"]] == [(b, "toggled"), (b, "created"), (a, "created")]
    by_operation = _ok(api.get("/audit", params={"operation_id": operation_id}))["entries"]
    assert [(e["job_id"], e["actor"], e["operation_id"]) for e in by_operation] == [(b, "bulk-tester", operation_id)]
    assert [e["job_id"] for e in _ok(api.get("/audit", params={"actor": "tester", "action": "created"}))["entries"]] == [b, a]
    created_b = _at(everything["entries"][1]["timestamp"])
    since = _ok(api.get("/audit", params={"since": _iso(created_b)}))["entries"]
    assert [e["job_id"] for e in since] == [b, b]
    until = _ok(api.get("/audit", params={"until": _iso(created_b)}))["entries"]
    assert [e["job_id"] for e in until] == [a]
    refused = api.get("/audit", params={"since": "yesterday"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"


def test_as_of_gives_the_job_as_it_was_between_each_change_also_once_deleted(api: Api) -> None:
    job_id = _create(api, name="V1", schedule={"interval_seconds": 60})
    _ok(api.put(f"/jobs/{job_id}", {"name": "V2"}))
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "paused"}))
    _ok(api.delete(f"/jobs/{job_id}"))
    stamps = {e["version"]: _at(e["timestamp"]) for e in _ok(api.get(f"/jobs/{job_id}/audit"))["entries"]}
    expected = {1: ("V1", True, False), 2: ("V2", True, False), 3: ("V2", False, False), 4: ("V2", False, True)}
    for version, (name, enabled, deleted) in expected.items():
        later = stamps.get(version + 1, stamps[version] + timedelta(hours=1))
        between = stamps[version] + (later - stamps[version]) / 2
        job = _ok(api.get(f"/jobs/{job_id}", params={"as_of": _iso(between)}))["job"]
        assert (job["version"], job["name"], job["enabled"], job["deleted"]) == (version, name, enabled, deleted)
        if enabled:  # the next fire as then computed: the first instant of the schedule after as_of
            nxt = _at(job["next_execution"])
            assert between < nxt <= between + timedelta(seconds=60)
        else:
            assert job["next_execution"] is None
        by_number = _ok(api.get(f"/jobs/{job_id}", params={"version": version}))["job"]
        assert (by_number["name"], by_number["enabled"]) == (name, enabled)
    assert _ok(api.get(f"/jobs/{job_id}", params={"version": 3}))["job"]["disabled_reason"] == "paused"
    before = api.get(f"/jobs/{job_id}", params={"as_of": _iso(stamps[1] - timedelta(seconds=1))})
    assert before.status_code == 404 and before.json()["error"]["code"] == "JOB_NOT_FOUND"
    assert api.get(f"/jobs/{job_id}", params={"version": 9}).status_code == 404
    assert api.get(f"/jobs/{job_id}").status_code == 404  # the live job is gone
    assert api.get(f"/jobs/{job_id}", params={"as_of": "2025-01-01T00:00:00"}).status_code == 400  # no offset


def test_revert_restores_an_earlier_configuration_as_a_new_audited_version(api: Api) -> None:
    job_id = _create(api, name="Original", schedule={"interval_seconds": 10}, tags=["x"])
    _ok(api.put(f"/jobs/{job_id}", {"name": "Changed", "schedule": {"interval_seconds": 99}, "tags": ["y"]}))
    _ok(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "hold"}))
    reverted = _ok(api.post(f"/jobs/{job_id}/revert", {"version": 1, "reason": "bad edit"}))
    assert reverted["version"] == 4 and reverted["reverted_to"] == 1
    job = _ok(api.get(f"/jobs/{job_id}"))["job"]
    assert job["name"] == "Original" and job["configuration"]["schedule"]["interval_seconds"] == 10
    assert job["metadata"]["tags"] == ["x"] and job["enabled"] is False  # enabled stays as it was
    assert job["metadata"]["disabled_reason"] == "hold"
    entry = _ok(api.get(f"/jobs/{job_id}/audit", params={"limit": 1}))["entries"][0]
    assert entry["action"] == "reverted" and entry["reason"] == "bad edit"
    assert _changes(entry) == {"name": ("Changed", "Original"), "schedule.interval_seconds": (99, 10),
                               "tags": (["y"], ["x"])}
    assert api.post(f"/jobs/{job_id}/revert", {"version": 4}).status_code == 400  # not an earlier version
    assert api.post(f"/jobs/{job_id}/revert", {"version": "1"}).status_code == 400
    assert api.as_role("viewer").post(f"/jobs/{job_id}/revert", {"version": 1}).status_code == 403
    stale = api.post(f"/jobs/{job_id}/revert", {"version": 2}, headers={"If-Match": '"3"'})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "VERSION_CONFLICT"


def test_undo_of_a_bulk_disable_leaves_jobs_changed_since_alone_unless_forced(api: Api, runtime: Any) -> None:
    admin = api.as_role("admin")
    jobs = [_create(api, name=f"J{i}") for i in range(3)]
    operation_id = _operation(runtime, api.gateway_id, [ToggleJob(api.gateway_id, j, False, "bulk off") for j in jobs])
    _ok(api.put(f"/jobs/{jobs[2]}", {"name": "edited after"}))  # changed since the operation

    plan = _ok(admin.post(f"/operations/{operation_id}/undo", {"dry_run": True}))
    assert {(s["job_id"], s["kind"], s["restores_version"]) for s in plan["undone"]} == {
        (jobs[0], "restore", 1), (jobs[1], "restore", 1)}
    assert [(s["job_id"], s["current_version"], s["operation_version"]) for s in plan["skipped"]] == [(jobs[2], 3, 2)]
    assert all(not _ok(api.get(f"/jobs/{j}"))["job"]["enabled"] for j in jobs)  # a dry run records nothing

    done = _ok(admin.post(f"/operations/{operation_id}/undo", {}))
    assert len(done["undone"]) == 2 and done["dry_run"] is False
    assert [_ok(api.get(f"/jobs/{j}"))["job"]["enabled"] for j in jobs] == [True, True, False]
    entry = _ok(api.get(f"/jobs/{jobs[0]}/audit", params={"limit": 1}))["entries"][0]
    assert (entry["action"], entry["operation_id"], entry["actor"]) == ("reverted", operation_id, "tester")
    assert _changes(entry) == {"enabled": (False, True), "disabled_reason": ("bulk off", "")}

    again = _ok(admin.post(f"/operations/{operation_id}/undo", {}))  # nothing more unless forced
    assert again["undone"] == []
    assert {(s["job_id"], s["reason"]) for s in again["skipped"]} == {
        (jobs[0], "already as before the operation"), (jobs[1], "already as before the operation"),
        (jobs[2], "changed since the operation")}
    forced = _ok(admin.post(f"/operations/{operation_id}/undo", {"force": True}))
    assert [s["job_id"] for s in forced["undone"]] == [jobs[2]]
    job = _ok(api.get(f"/jobs/{jobs[2]}"))["job"]
    assert job["enabled"] is True and job["name"] == "J2"  # the before-state of the operation, whole

    assert api.post(f"/operations/{operation_id}/undo", {}).status_code == 403  # admin only
    missing = admin.post("/operations/op-none/undo", {})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_undo_of_an_import_deletes_the_jobs_it_created_except_those_changed_since(api: Api, runtime: Any) -> None:
    admin = api.as_role("admin")
    ids = [f"imp-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    operation_id = _operation(runtime, api.gateway_id, [
        CreateJob.from_fields(api.gateway_id, {**job_body(name=f"Imported {i}"), "id": job_id})
        for i, job_id in enumerate(ids)
    ], actor="importer")
    _ok(api.post(f"/jobs/{ids[1]}/toggle", {"enabled": False, "reason": "mine now"}))
    done = _ok(admin.post(f"/operations/{operation_id}/undo", {}))
    assert [(s["job_id"], s["kind"]) for s in done["undone"]] == [(ids[0], "delete")]
    assert [s["job_id"] for s in done["skipped"]] == [ids[1]]
    assert api.get(f"/jobs/{ids[0]}").status_code == 404
    assert api.get(f"/jobs/{ids[1]}").status_code == 200
    entry = _ok(api.get(f"/jobs/{ids[0]}/audit"))["entries"][0]
    assert (entry["action"], entry["operation_id"]) == ("deleted", operation_id)
    assert _ok(admin.post(f"/operations/{operation_id}/undo", {}))["not_undoable"] == [
        {"job_id": ids[0], "reason": "deleted by the operation; job ids are not reused"}]


def test_the_event_log_pages_one_gateways_events_with_gaps_in_positions(api: Api, other_api: Api) -> None:
    admin, other_admin = api.as_role("admin"), other_api.as_role("admin")
    start = _ok(admin.get("/events", params={"after": 0, "limit": 1}))
    head = max(e["position"] for e in start["events"]) if start["events"] else 0
    mine, theirs = [], []
    for i in range(3):  # interleaved: each gateway's positions have gaps where the other's are
        mine.append(_create(api, name=f"M{i}"))
        theirs.append(_create(other_api, name=f"T{i}"))
    seen: list[dict[str, Any]] = []
    after = head
    while True:
        page = _ok(admin.get("/events", params={"after": after, "limit": 2}))
        assert len(page["events"]) <= 2
        if not page["events"]:
            assert page["next_after"] == after
            break
        seen += page["events"]
        after = page["next_after"]
    created = [e for e in seen if e["type"] == "Job.Created"]
    assert [e["payload"]["job_id"] for e in created] == mine
    assert all(e["payload"]["gateway_id"] == api.gateway_id for e in created)
    positions = [e["position"] for e in seen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert any(b - a > 1 for a, b in zip(positions, positions[1:], strict=False))  # the other gateway's in between
    assert all(e["timestamp"].endswith("Z") and e["topic"].startswith("domain.") for e in seen)
    theirs_seen = [e["payload"]["job_id"] for e in _ok(other_admin.get("/events", params={"after": head, "limit": 1000}))["events"]
                   if e["type"] == "Job.Created"]
    assert theirs_seen == theirs

    ndjson = admin.get("/events", params={"after": head, "limit": 1000}, headers={"Accept": "application/x-ndjson"})
    assert ndjson.status_code == 200 and ndjson.headers["content-type"].startswith("application/x-ndjson")
    import json

    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["position"] for line in lines] == positions
    assert ndjson.headers["x-next-after"] == str(positions[-1])
    assert api.get("/events").status_code == 403  # admin only
    assert admin.get("/events", params={"limit": 0}).status_code == 400


def test_a_real_disable_all_and_a_real_import_are_audited_and_undone(api: Api) -> None:
    """The routes of issue 12, not commands sharing an id: POST /jobs/disable/all and POST
    /jobs/import are audited with their operation id, and undone by it (a job changed since the
    disable-all is left alone)."""
    import json as _json

    admin = api.as_role("admin")
    jobs = [_create(api, name=f"R{i}") for i in range(2)]
    disabled = _ok(admin.post("/jobs/disable/all", {"reason": "maintenance"}))
    operation_id = disabled["operation_id"]
    entry = _ok(api.get(f"/jobs/{jobs[0]}/audit", params={"limit": 1}))["entries"][0]
    assert (entry["operation_id"], entry["actor"]) == (operation_id, "tester")
    assert _changes(entry)["enabled"] == (True, False)
    _ok(api.put(f"/jobs/{jobs[1]}", {"name": "edited after"}))
    undone = _ok(admin.post(f"/operations/{operation_id}/undo", {}))
    assert [s["job_id"] for s in undone["undone"]] == [jobs[0]]
    assert [s["job_id"] for s in undone["skipped"]] == [jobs[1]]
    assert [_ok(api.get(f"/jobs/{j}"))["job"]["enabled"] for j in jobs] == [True, False]

    new_id = f"imp-{uuid.uuid4().hex[:6]}"
    document = {"export_type": "jobs_configuration", "format_version": 1,
                "jobs": [{**job_body(name="Imported"), "id": new_id}]}
    answer = admin.http.post(admin.prefix + "/jobs/import", headers=admin.headers(),
                             files={"configFile": ("jobs.json", _json.dumps(document).encode(), "application/json")},
                             data={"gateway_id": api.gateway_id})
    imported = _ok(answer)
    created = _ok(api.get(f"/jobs/{new_id}/audit"))["entries"][0]
    assert (created["action"], created["operation_id"]) == ("created", imported["operation_id"])
    assert [(s["job_id"], s["kind"]) for s in _ok(admin.post(f"/operations/{imported['operation_id']}/undo", {}))[
        "undone"]] == [(new_id, "delete")]
    assert api.get(f"/jobs/{new_id}").status_code == 404
