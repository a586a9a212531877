"""GET /jobs answers each job from the parts its row keeps (migrations 026, 028), read on a plain query
string without Litestar's parameter handling: the same jobs, fields and values as the job's own
detail, the same selection as the handler's, and the handler's answer for anything else."""

from __future__ import annotations

import pytest

from interfaces.api.job_queries import plain_selection
from projections.job_queries import _ANSWER, JobFilter
from tests.interfaces.contract import create_job, job_detail

CRON = {"type": "cron", "schedule": {"cron_expression": "*/5 * * * *", "timezone": "UTC"}}


@pytest.mark.parametrize(("query", "expected"), [
    (b"", JobFilter()),
    (b"limit=50&offset=950", JobFilter(limit=50, offset=950)),
    (b"offset=0&limit=100", JobFilter(limit=100, offset=0)),
    (b"status=error&type=cron&enabled=false", JobFilter(status="error", type="cron", enabled=False)),
    (b"tags=alpha,gamma&ignored=1", JobFilter(tags=("alpha", "gamma"))),
    (b"tags=,alpha,,&enabled=true", JobFilter(tags=("alpha",), enabled=True)),
    (b"&&limit=1&", JobFilter(limit=1)),
])
def test_a_plain_query_string_is_read_as_the_handler_reads_it(query, expected):
    assert plain_selection(query) == expected


@pytest.mark.parametrize("query", [
    b"limit=0", b"limit=101", b"limit=050", b"limit=", b"limit", b"offset=1000001", b"offset=-1", b"limit=1.0",
    b"status=paused", b"status=", b"type=hourly", b"enabled=1", b"enabled=True", b"offset=1&offset=2",
    b"x=1&x=2", b"tags=a%2Cb", b"tags=a+b", b"tags=%20beta",
])
def test_anything_else_is_left_to_the_handler(query):
    assert plain_selection(query) is None


def test_each_listed_job_shows_what_its_detail_shows(api):
    ids = [
        create_job(api, name='quote " backslash \\ tab \t', tags=["x"]),
        create_job(api, name="Zählerstand ☀", description="<b>&</b>", enabled=False, tags=[]),
        create_job(api, name="cron", **CRON),
    ]
    listed = {job["id"]: job for job in api.get("/jobs").json()["data"]["jobs"]}
    assert list(listed) == ids
    for job_id in ids:
        detail = job_detail(api, job_id)
        entry = listed[job_id]
        assert list(entry) == ["id", "name", "description", "type", "enabled", "status", "schedule", "action", "tags",
                               "created_at", "last_execution", "execution_count", "average_duration_ms"]
        assert {k: entry[k] for k in ("name", "description", "type", "enabled", "status")} == {
            k: detail[k] for k in ("name", "description", "type", "enabled", "status")}
        assert entry["schedule"] == {**detail["configuration"]["schedule"], "next_execution": detail["next_execution"]}
        assert entry["action"] == detail["configuration"]["action"]
        assert entry["tags"] == detail["metadata"]["tags"]
        assert entry["created_at"] == detail["metadata"]["created_at"]
        assert entry["last_execution"] == detail["statistics"]["last_execution"]
        assert entry["execution_count"] == detail["statistics"]["total_executions"]
        assert entry["average_duration_ms"] == detail["statistics"]["average_duration_ms"]
    escaped = api.get("/jobs", params={"tags": " x "})  # an escaped query string: the handler's reading
    assert [job["id"] for job in escaped.json()["data"]["jobs"]] == ids[:1]
    assert escaped.json()["data"]["jobs"][0] == listed[ids[0]]


@pytest.mark.parametrize(("total", "finished"), [(5, 2), (7, 2), (1, 3), (2, 3), (0, 4), (10**12 + 1, 2), (9, 6)])
def test_the_listed_average_rounds_as_the_detail_does(runtime, total, finished):
    """The page's answer of a row and the detail (Python's round: half to even) give the same average."""
    row = runtime.reads.one(
        f"SELECT ({_ANSWER})::json AS answer FROM (SELECT job_list_head('j', 'n', '', 'interval', true) AS list_head,"
        " 'active' AS status, job_list_schedule('{}') AS list_schedule, job_list_moment(NULL) AS list_next,"
        " job_list_tail('{}', '{}', '2026-01-01T00:00:00Z') AS list_tail,"
        " job_list_last('2026-01-01T00:00:00.000120Z', 3, %(finished)s, %(total)s) AS list_last) r",
        {"total": total, "finished": finished},
    )
    answer = row["answer"]
    assert answer["average_duration_ms"] == round(total / finished)
    assert (answer["created_at"], answer["last_execution"]) == ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000120Z")
    assert answer["schedule"] == {"next_execution": None}
