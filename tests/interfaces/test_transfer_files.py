"""Reading a file to import never fails but with the contract's codes, whatever the bytes (a pure
function: hypothesis draws bytes, JSON-like documents and YAML text), and an export renders back
to the jobs it was made from in every format."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import SchedulerError
from interfaces.transfer.files import read_jobs, render

NAMES = st.sampled_from(["jobs.json", "jobs.yaml", "jobs.csv", None])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)
JOB_KEYS = st.sampled_from(["id", "name", "type", "schedule", "action", "enabled", "tags", "options", "colour"])


def _only_contract_errors(content: bytes, name: str | None) -> None:
    try:
        jobs = read_jobs(content, name)
    except SchedulerError as error:
        assert error.code in ("IMPORT_FAILED", "PAYLOAD_TOO_LARGE"), error.code
        for fault in error.details["errors"]:
            assert set(fault) == {"index", "id", "field", "code", "reason", "message"}
    else:
        assert all(isinstance(job["id"], str) for job in jobs)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300), NAMES)
def test_any_bytes_are_read_or_refused_with_import_failed(content, name):
    _only_contract_errors(content, name)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(JOB_KEYS, VALUES, max_size=9), max_size=4), VALUES, NAMES)
def test_any_json_document_is_read_or_refused_with_import_failed(jobs, extra, name):
    document = {"export_type": "jobs_configuration", "format_version": 1, "jobs": jobs, "statistics": extra}
    _only_contract_errors(json.dumps(document).encode(), name)
    _only_contract_errors(yaml.safe_dump(document).encode(), "jobs.yaml")


JOBS = [
    {"id": "job-a", "name": "a, with \"quotes\"\nand a line", "description": "=1+1", "type": "cron", "enabled": False,
     "schedule": {"cron_expression": "0 9 * * 1-5", "timezone": "UTC"},
     "action": {"type": "publish", "topic": "t/a", "payload_template": "{\"v\": 1}", "qos": 1, "retain": True},
     "tags": ["x", "y"], "options": {"misfire_policy": "skip", "misfire_cap": 10, "overlap_policy": "skip",
                                     "timeout_seconds": 300.0, "max_attempts": 1, "backoff_seconds": 5.0,
                                     "backoff_multiplier": 2.0}},
]


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_a_rendered_export_reads_back_to_its_jobs(fmt):
    document = {"export_type": "jobs_configuration", "format_version": 1,
                "timestamp": datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc), "gateway_id": "gw-1", "jobs": JOBS,
                "statistics": None, "history": None}
    assert read_jobs(render(document, fmt), f"jobs.{fmt}") == JOBS  # type: ignore[arg-type]


def test_a_job_the_document_cannot_describe_fails_the_export_with_its_code():
    broken = {**JOBS[0], "options": {**JOBS[0]["options"], "max_attempts": 0}}
    document = {"export_type": "jobs_configuration", "format_version": 1, "timestamp": datetime.now(timezone.utc),
                "gateway_id": "gw-1", "jobs": [broken], "statistics": None, "history": None}
    with pytest.raises(SchedulerError) as failed:
        render(document, "json")
    assert failed.value.code == "EXPORT_FAILED" and "max_attempts" in failed.value.message
