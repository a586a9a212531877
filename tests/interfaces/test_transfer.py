"""Export and import through the real app on the real database: the contract's shapes, the file
as a dated attachment in JSON, YAML and CSV, an export imported into another gateway keeping ids
and schedules, merge twice writing nothing, replace, an atomic import (one bad job anywhere
imports nothing, checked in the event log), dry runs and their plan token, hostile files, roles."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
import yaml

from domain.identity import gateway_uuid, job_uuid
from interfaces.transfer.files import MAX_IMPORT_BYTES
from tests.conftest import Api, job_body

MEDIA = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv"}


def _export(api: Api, **body: Any) -> Any:
    return api.post("/jobs/export", body)


def _import(api: Api, content: bytes | str, *, name: str = "jobs.json", role: str = "admin", **fields: Any) -> Any:
    data = {k: str(v).lower() if isinstance(v, bool) else v for k, v in fields.items()}
    raw = content.encode() if isinstance(content, str) else content
    return api.http.post(api.prefix + "/jobs/import", headers=api.as_role(role).headers(),
                         files={"configFile": (name, raw, "application/octet-stream")}, data=data)


def _file(*jobs: dict[str, Any], **envelope: Any) -> str:
    return json.dumps({"export_type": "jobs_configuration", "format_version": 1, "jobs": list(jobs), **envelope})


def _job(job_id: str, **kw: Any) -> dict[str, Any]:
    body = job_body(id=job_id, name=f"job {job_id}", schedule={"interval_seconds": 60})
    body.update(kw)
    return body


def _ids(api: Api) -> list[str]:
    return sorted(j["id"] for j in api.get("/jobs", params={"limit": 100}).json()["data"]["jobs"])


def _refused(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body["error"]["details"]


@pytest.fixture
def filled(api: Api) -> Api:
    """A gateway with three jobs of different schedule types, one disabled."""
    for job in (
        _job("job-poll", tags=["modbus"]),
        _job("job-daily", type="daily", schedule={"time": "09:30", "timezone": "Europe/Berlin"},
             options={"misfire_policy": "skip", "timeout_seconds": 20}),
        _job("job-cron", type="cron", schedule={"cron_expression": "*/5 * * * *"}, enabled=False,
             action={"type": "system", "operation": "health_check"}),
    ):
        assert api.post("/jobs", job).status_code == 201
    return api


def test_export_answers_the_contract_document_as_a_dated_attachment(filled: Api):
    answer = _export(filled, gateway_id=filled.gateway_id, format="json", include_history=False,
                     include_statistics=True)
    assert answer.status_code == 200, answer.text
    today = datetime.now(timezone.utc).strftime("%Y%m%d")
    assert answer.headers["content-disposition"] == f'attachment; filename="jobs_export_{today}.json"'
    assert answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert (document["export_type"], document["format_version"], document["gateway_id"]) == (
        "jobs_configuration", 1, filled.gateway_id)
    assert document["timestamp"].endswith("Z") and document["history"] is None
    assert [j["id"] for j in document["jobs"]] == ["job-poll", "job-daily", "job-cron"]
    daily = document["jobs"][1]
    assert daily == {
        "id": "job-daily", "name": "job job-daily", "description": "Poll Modbus devices for sensor data",
        "type": "daily", "enabled": True,
        "schedule": {"time": "09:30", "timezone": "Europe/Berlin", "skip_weekends": False},
        "action": {"type": "publish", "topic": "device/data/modbus", "payload_template": '{"t": "${NOW}"}',
                   "qos": 0, "retain": False},
        "tags": ["modbus", "polling"],
        "options": {"misfire_policy": "skip", "misfire_cap": 10, "overlap_policy": "skip", "timeout_seconds": 20.0,
                    "max_attempts": 1, "backoff_seconds": 5.0, "backoff_multiplier": 2.0},
    }
    statistics = document["statistics"]
    assert (statistics["total_jobs"], statistics["enabled_jobs"], statistics["total_executions"]) == (3, 2, 0)
    assert statistics["jobs"]["job-cron"]["last_execution"] is None
    other = Api(filled.http, filled.gateway_id + "-copy")
    for job in document["jobs"]:  # each job in the shape a create accepts
        assert other.post("/jobs", job).status_code == 201


def test_export_without_statistics_and_of_an_empty_gateway(api: Api):
    document = _export(api, include_statistics=False).json()
    assert (document["jobs"], document["statistics"], document["gateway_id"]) == ([], None, api.gateway_id)


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_an_export_imports_into_another_gateway_keeping_ids_and_schedules(filled: Api, other_api: Api, runtime: Any,
                                                                          fmt: str):
    exported = _export(filled, format=fmt)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith(MEDIA[fmt])
    filename = exported.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert filename.endswith(f".{fmt}")
    imported = _import(other_api, exported.content, name=filename, gateway_id=other_api.gateway_id)
    assert imported.status_code == 200, imported.text
    data = imported.json()["data"]
    assert (data["processed"], data["imported"], data["skipped"], data["errors"]) == (3, 3, 0, 0)
    assert data["import_id"].startswith("import_") and data["gateway_id"] == other_api.gateway_id
    assert [(j["id"], j["action"]) for j in data["jobs"]] == [
        ("job-poll", "create"), ("job-daily", "create"), ("job-cron", "create")]

    def settings(api: Api) -> list[dict[str, Any]]:
        return sorted(_export(api, include_statistics=False).json()["jobs"], key=lambda j: j["id"])

    assert settings(other_api) == settings(filled)
    events = list(runtime.app.events.get(job_uuid(other_api.gateway_id, "job-daily")))
    assert [(type(e).__qualname__, e.actor, e.operation_id) for e in events] == [
        ("Job.Created", "tester", data["import_id"])]
    assert events[0].request_id == imported.headers["x-request-id"]
    gateway_events = list(runtime.app.events.get(gateway_uuid(other_api.gateway_id)))
    assert {e.operation_id for e in gateway_events} == {data["import_id"]}


def test_importing_the_same_file_twice_with_merge_writes_no_event_the_second_time(api: Api, event_log: Any):
    content = _file(_job("job-a"), _job("job-b"))
    assert _import(api, content).json()["data"]["imported"] == 2
    head = event_log.head()
    again = _import(api, content, strategy="merge")
    assert again.status_code == 200, again.text
    data = again.json()["data"]
    assert (data["imported"], data["skipped"]) == (0, 2)
    assert [(j["id"], j["action"], j["reason"]) for j in data["jobs"]] == [
        ("job-a", "skip", "exists"), ("job-b", "skip", "exists")]
    assert event_log.head() == head


def test_replace_leaves_the_gateway_with_exactly_the_files_jobs(api: Api, runtime: Any):
    _import(api, _file(_job("job-keep"), _job("job-change"), _job("job-drop")))
    kept_version = runtime.app.job(api.gateway_id, "job-keep").version
    answer = _import(api, _file(_job("job-keep"), _job("job-change", name="renamed", tags=["new"]), _job("job-new")),
                     strategy="replace")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    steps = {j["id"]: j for j in data["jobs"]}
    assert {k: (v["action"], v["index"]) for k, v in steps.items()} == {
        "job-drop": ("delete", None), "job-keep": ("skip", 0), "job-change": ("update", 1), "job-new": ("create", 2)}
    assert steps["job-change"]["changes"] == {
        "name": {"before": "job job-change", "after": "renamed"},
        "tags": {"before": ["modbus", "polling"], "after": ["new"]},
    }
    assert (data["imported"], data["skipped"], data["deleted"]) == (2, 1, 1)
    assert _ids(api) == ["job-change", "job-keep", "job-new"]
    assert runtime.app.job(api.gateway_id, "job-keep").version == kept_version
    assert api.get("/jobs/job-change").json()["data"]["job"]["name"] == "renamed"


def test_one_bad_job_anywhere_imports_nothing_and_names_each_bad_job(api: Api, event_log: Any):
    _import(api, _file(_job("job-old")))
    head = event_log.head()
    jobs = [_job("job-1"), _job("job-2", schedule={"interval_seconds": -5}), _job("job-3"),
            _job("job-4", action={"type": "teleport"}), _job("job-5", enabled="yes"), _job("job-6", colour="red")]
    details = _refused(_import(api, _file(*jobs), strategy="replace"), 400, "IMPORT_FAILED")
    assert [(e["index"], e["id"], e["field"]) for e in details["errors"]] == [
        (4, "job-5", "enabled"), (5, "job-6", "colour")]  # the shapes are checked first, for the whole file
    details = _refused(_import(api, _file(*jobs[:4]), strategy="replace"), 400, "IMPORT_FAILED")
    assert [(e["index"], e["id"], e["field"], e["code"]) for e in details["errors"]] == [
        (1, "job-2", "schedule.interval_seconds", "VALIDATION_ERROR"), (3, "job-4", "action.type", "ACTION_NOT_SUPPORTED")]
    assert event_log.head() == head and _ids(api) == ["job-old"]


def test_a_dry_run_writes_nothing_and_its_plan_token_guards_the_apply(api: Api, event_log: Any):
    _import(api, _file(_job("job-a"), _job("job-b")))
    content = _file(_job("job-a", schedule={"interval_seconds": 120}), _job("job-c", type="daily",
                                                                            schedule={"time": "06:00"}))
    head = event_log.head()
    planned = _import(api, content, strategy="replace", dry_run=True)
    assert planned.status_code == 200, planned.text
    plan = planned.json()["data"]
    assert plan["dry_run"] is True and len(plan["plan_token"]) == 24 and event_log.head() == head
    steps = {j["id"]: j for j in plan["jobs"]}
    assert {k: v["action"] for k, v in steps.items()} == {"job-b": "delete", "job-a": "update", "job-c": "create"}
    assert steps["job-a"]["changes"]["schedule"]["after"] == {"interval_seconds": 120, "jitter_percentage": 0}
    fires = [datetime.fromisoformat(t) for t in steps["job-c"]["next_executions"]]
    assert len(fires) == 3 and all(t.hour == 6 and t.minute == 0 for t in fires)
    assert [(b - a).total_seconds() for a, b in zip(fires, fires[1:], strict=False)] == [86400, 86400]
    a_fires = [datetime.fromisoformat(t) for t in steps["job-a"]["next_executions"]]
    assert [(b - a).total_seconds() for a, b in zip(a_fires, a_fires[1:], strict=False)] == [120, 120]
    assert steps["job-b"]["next_executions"] == [] and _ids(api) == ["job-a", "job-b"]

    api.post("/jobs/job-b/toggle", {"enabled": False, "reason": "changed meanwhile"})
    head = event_log.head()
    details = _refused(_import(api, content, strategy="replace", plan_token=plan["plan_token"]), 409, "VERSION_CONFLICT")
    assert details["reason"] == "plan_outdated" and event_log.head() == head
    fresh = _import(api, content, strategy="replace", dry_run=True).json()["data"]["plan_token"]
    applied = _import(api, content, strategy="replace", plan_token=fresh)
    assert applied.status_code == 200, applied.text
    assert applied.json()["data"]["plan_token"] is None and _ids(api) == ["job-a", "job-c"]


HUGE = "x" * 200_000
DEEP = '{"export_type": "jobs_configuration", "format_version": 1, "jobs": [' + "[" * 5000 + "]" * 5000 + "]}"
NESTED = _file(_job("job-n", action={"type": "system", "operation": "health_check",
                                     "parameters": json.loads('{"a":' * 40 + "1" + "}" * 40)}))
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))


@pytest.mark.parametrize(("content", "name", "field"), [
    (_file(_job("job-1", name="bad\u0000name")), "jobs.json", "file"),
    (b'{"export_type": "jobs_configuration", "format_version": 1, "jobs": [\x00]}', "jobs.json", "file"),
    (_file(_job("job-1", name=HUGE)), "jobs.json", "name"),
    (_file(_job("job-1", description=HUGE[:20_000])), "jobs.json", "description"),
    (DEEP, "jobs.json", "file"),
    (NESTED, "jobs.json", "file"),
    (BOMB, "jobs.yaml", "file"),
    ("export_type: !!python/object/apply:os.system ['true']\nformat_version: 1\njobs: []\n", "jobs.yaml", "file"),
    ("export_type: jobs_configuration\nformat_version: 1\njobs: [!!binary aGVsbG8=]\n", "jobs.yaml", "file"),
    ("export_type: jobs_configuration\nformat_version: 1\njobs: [{id: j, 7: x}]\n", "jobs.yaml", "file"),
    ("- just\n- a list\n", "jobs.yaml", "export_type"),
    ('{"jobs": []}', "jobs.json", "export_type"),
    (_file(export_type="something_else"), "jobs.json", "export_type"),
    (_file(format_version=2), "jobs.json", "format_version"),
    (_file(format_version="1"), "jobs.json", "format_version"),
    (_file(owner="me"), "jobs.json", "owner"),
    (_file("not a job"), "jobs.json", "job"),
    (_file(_job("job-1", schedule="every minute")), "jobs.json", "schedule"),
    (_file({"name": "no id", "type": "interval", "schedule": {}, "action": {}}), "jobs.json", "id"),
    (b"\xff\xfe\x00binary", "jobs.bin", "file"),
    ("{not json", "jobs.json", "file"),
    ("id,name,colour\nj,n,red\n", "jobs.csv", "file"),
    ("id,name\nj,n,extra\n", "jobs.csv", "file"),
    ("id,name\n\"j\x00\",n\n", "jobs.csv", "file"),
], ids=["nul-escape", "nul-byte", "huge-name", "long-description", "deep-json", "nested-parameters", "yaml-alias-bomb",
        "yaml-python-tag", "yaml-binary", "yaml-int-key", "a-list", "no-export-type", "other-export-type",
        "future-version", "version-as-text", "unknown-field", "job-not-object", "schedule-not-object", "no-id",
        "not-utf8", "broken-json", "csv-unknown-column", "csv-extra-cell", "csv-nul"])
def test_hostile_and_foreign_files_answer_import_failed_and_write_nothing(api: Api, event_log: Any, content: Any,
                                                                          name: str, field: str):
    head = event_log.head()
    details = _refused(_import(api, content, name=name), 400, "IMPORT_FAILED")
    assert details["errors"][0]["field"] == field, details
    assert event_log.head() == head and _ids(api) == []


def test_a_file_too_large_answers_payload_too_large_and_writes_nothing(api: Api, event_log: Any):
    head = event_log.head()
    padding = " " * (MAX_IMPORT_BYTES + 1)
    _refused(_import(api, _file(_job("job-1")) + padding), 413, "PAYLOAD_TOO_LARGE")
    assert event_log.head() == head and _ids(api) == []


def test_a_file_larger_than_the_apis_body_limit_but_within_the_imports_is_imported(api: Api):
    answer = _import(api, _file(_job("job-1")) + " " * (2 * 1024 * 1024))  # the API's JSON bodies stop at 1 MiB
    assert answer.status_code == 200, answer.text
    assert _ids(api) == ["job-1"]


def test_a_json_route_sent_as_multipart_still_has_its_nul_refused(api: Api, event_log: Any):
    head = event_log.head()
    body = json.dumps(job_body(action={"type": "publish", "topic": "t/x", "payload_template": "a\u0000b"}))
    assert "\\u0000" in body
    answer = api.http.post(api.prefix + "/jobs", content=body,
                           headers=api.headers({"Content-Type": "multipart/form-data; boundary=x"}))
    assert _refused(answer, 400, "VALIDATION_ERROR")["reason"] == "NUL character"
    assert event_log.head() == head


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_an_admin_imports(api: Api, event_log: Any, role: str):
    head = event_log.head()
    _refused(_import(api, _file(_job("job-1")), role=role), 403, "FORBIDDEN")
    assert event_log.head() == head


def test_a_viewer_exports(filled: Api):
    answer = filled.as_role("viewer").post("/jobs/export", {"format": "yaml"})
    assert answer.status_code == 200, answer.text
    document = yaml.safe_load(answer.content)
    assert [j["id"] for j in document["jobs"]] == ["job-poll", "job-daily", "job-cron"]
    assert document["timestamp"].endswith("Z")


@pytest.mark.parametrize(("fields", "status", "code"), [
    ({"strategy": "overwrite"}, 400, "VALIDATION_ERROR"),
    ({"dry_run": "maybe"}, 400, "VALIDATION_ERROR"),
    ({"colour": "red"}, 400, "VALIDATION_ERROR"),
    ({"gateway_id": "another-gateway"}, 403, "FORBIDDEN"),
])
def test_bad_import_forms_are_refused(api: Api, fields: dict[str, str], status: int, code: str):
    _refused(_import(api, _file(_job("job-1")), **fields), status, code)
    assert _ids(api) == []


def test_an_import_without_a_file_is_a_validation_error(api: Api):
    answer = api.http.post(api.prefix + "/jobs/import", headers=api.as_role("admin").headers(),
                           data={"strategy": "merge"}, files={"other": ("x", b"y")})
    _refused(answer, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("body", "field"), [
    ({"format": "xml"}, "format"), ({"include_history": "yes"}, "include_history"), ({"extra": 1}, "body"),
    ({"format": "csv", "include_history": True}, "include_history"),
])
def test_bad_export_requests_are_validation_errors(api: Api, body: dict[str, Any], field: str):
    details = _refused(_export(api, **body), 400, "VALIDATION_ERROR")
    assert field in details["field"] or details["field"] == "body"


def test_an_export_with_history_carries_the_latest_executions(api: Api, runtime: Any):
    from domain.execution import Execution

    api.post("/jobs", _job("job-h"))
    now = datetime.now(timezone.utc)
    execution = Execution.start(gateway_id=api.gateway_id, job_id="job-h", job_name="job job-h", trigger="manual",
                                execution_id="exec_history_1", scheduled_for=None, now=now)
    execution.succeed(now=now, duration_ms=12, message="ok", logs=[], details={})
    recordings = runtime.app.record([execution])
    assert runtime.wait(((recordings[-1].notification.topic, recordings[-1].notification.id),), timeout=10)
    document = _export(api, include_history=True).json()
    assert [(h["job_id"], h["execution_id"], h["status"], h["duration_ms"]) for h in document["history"]] == [
        ("job-h", "exec_history_1", "success", 12)]
    assert document["statistics"]["jobs"]["job-h"]["total_executions"] == 1


@pytest.mark.parametrize(("levels", "reason"), [(500, "too deeply nested"), (100_000, "not yaml")])
def test_a_deeply_nested_yaml_file_is_refused_before_it_is_composed(api: Api, event_log: Any, levels: int, reason: str):
    """Past libyaml's own limit (1,000 levels) its scanner refuses; below it, the event pass does."""
    head = event_log.head()
    deep = "export_type: jobs_configuration\nformat_version: 1\njobs: " + "[" * levels + "]" * levels + "\n"
    details = _refused(_import(api, deep, name="jobs.yaml"), 400, "IMPORT_FAILED")
    assert details["errors"][0]["reason"] == reason and event_log.head() == head


def test_an_import_waits_for_another_operation_of_its_gateway_and_is_one_itself(api: Api, runtime, event_log):
    """The bulk operations' guard (application/operations.py) covers imports: refused with
    OPERATION_IN_PROGRESS, writing nothing, while another operation runs; once applied, the
    import's id names its operation (finished) and is answered as operation_id."""
    running = runtime.operations.begin(api.gateway_id, "disable_all", "someone")
    head = event_log.head()
    details = _refused(_import(api, _file(_job("job-a")), gateway_id=api.gateway_id), 409, "OPERATION_IN_PROGRESS")
    assert details["operation_id"] == running.id and event_log.head() == head
    planned = _import(api, _file(_job("job-a")), gateway_id=api.gateway_id, dry_run=True)  # writes nothing: no guard
    assert planned.status_code == 200 and planned.json()["data"]["operation_id"] is None
    runtime.operations.finish(running.id)
    answer = _import(api, _file(_job("job-a")), gateway_id=api.gateway_id)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["operation_id"] == data["import_id"]
    operation = runtime.operations.get(data["import_id"])
    assert (operation.kind, operation.state, operation.actor) == ("import", "completed", "tester")
