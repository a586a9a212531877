"""A `replace` import through the real route updates, deletes and creates jobs: each change is
audited with the import's operation id and its exact before and after, and undoing the import
restores the job it updated, deletes the one it created, leaves a job changed since alone and says
the deleted one cannot come back. A disable-all is audited as exactly (enabled and reason)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import Api, job_body


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in entry["changes"]}


def _import(admin: Api, jobs: list[dict[str, Any]], strategy: str) -> dict[str, Any]:
    document = {"export_type": "jobs_configuration", "format_version": 1, "jobs": jobs}
    return _ok(admin.http.post(admin.prefix + "/jobs/import", headers=admin.headers(),
                               files={"configFile": ("jobs.json", json.dumps(document).encode(), "application/json")},
                               data={"gateway_id": admin.gateway_id, "strategy": strategy}))


def _latest(api: Api, job_id: str) -> dict[str, Any]:
    return _ok(api.get(f"/jobs/{job_id}/audit", params={"limit": 1}))["entries"][0]


def test_a_replace_import_is_audited_exactly_and_its_undo_restores_what_it_updated(api: Api) -> None:
    admin = api.as_role("admin")
    kept = _ok(api.post("/jobs", job_body(name="Kept", schedule={"interval_seconds": 10}, tags=["a"])), 201)["job_id"]
    dropped = _ok(api.post("/jobs", job_body(name="Dropped")), 201)["job_id"]
    added, later = f"imp-{uuid.uuid4().hex[:6]}", f"imp-{uuid.uuid4().hex[:6]}"
    imported = _import(admin, [
        {**job_body(name="Kept, imported", schedule={"interval_seconds": 45}, tags=["a"]), "id": kept},
        {**job_body(name="Added"), "id": added}, {**job_body(name="Later"), "id": later},
    ], "replace")
    operation_id = imported["import_id"]
    assert sorted((s["id"], s["action"]) for s in imported["jobs"]) == sorted(
        [(kept, "update"), (added, "create"), (later, "create"), (dropped, "delete")])

    updated = _latest(api, kept)
    assert (updated["action"], updated["operation_id"], updated["actor"]) == ("updated", operation_id, "tester")
    assert _changes(updated) == {"name": ("Kept", "Kept, imported"), "schedule.interval_seconds": (10, 45)}
    deleted = _latest(api, dropped)
    assert (deleted["action"], deleted["operation_id"]) == ("deleted", operation_id)
    assert _changes(deleted) == {"enabled": (True, False), "deleted": (False, True)}
    created = _latest(api, added)
    assert (created["action"], created["operation_id"], created["version"]) == ("created", operation_id, 1)
    assert _changes(created)["name"] == (None, "Added")
    _ok(api.post(f"/jobs/{later}/toggle", {"enabled": False, "reason": "mine now"}))  # changed since the import

    undone = _ok(admin.post(f"/operations/{operation_id}/undo", {}))
    assert sorted((s["job_id"], s["kind"]) for s in undone["undone"]) == sorted([(kept, "restore"), (added, "delete")])
    assert [s["job_id"] for s in undone["skipped"]] == [later]
    assert [n["job_id"] for n in undone["not_undoable"]] == [dropped]
    job = _ok(api.get(f"/jobs/{kept}"))["job"]
    assert (job["name"], job["configuration"]["schedule"]["interval_seconds"]) == ("Kept", 10)
    restored = _latest(api, kept)
    assert (restored["action"], restored["operation_id"]) == ("reverted", operation_id)
    assert _changes(restored) == {"name": ("Kept, imported", "Kept"), "schedule.interval_seconds": (45, 10)}
    assert api.get(f"/jobs/{added}").status_code == 404
    assert _ok(api.get(f"/jobs/{later}"))["job"]["enabled"] is False
    assert api.get(f"/jobs/{dropped}").status_code == 404


def test_a_disable_all_is_audited_with_exactly_the_enabled_flag_and_the_reason(api: Api) -> None:
    admin = api.as_role("admin")
    on = _ok(api.post("/jobs", job_body(name="On")), 201)["job_id"]
    off = _ok(api.post("/jobs", job_body(name="Off", enabled=False)), 201)["job_id"]
    operation_id = _ok(admin.post("/jobs/disable/all", {"reason": "plant shutdown"}))["operation_id"]
    entry = _latest(api, on)
    assert (entry["action"], entry["operation_id"], entry["reason"]) == ("toggled", operation_id, "plant shutdown")
    assert _changes(entry) == {"enabled": (True, False), "disabled_reason": ("", "plant shutdown")}
    assert _latest(api, off)["version"] == 1  # already off: nothing recorded for it
