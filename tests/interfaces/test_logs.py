"""Logging: every line is one JSON object (structlog's and the standard library's alike), one
canonical line per request carrying its X-Request-ID, info lines buffered briefly, errors at once."""

from __future__ import annotations

import io
import json
import logging
import time

from interfaces.logs import LineSink, flush_logs


def test_every_line_is_json_and_a_request_has_one_canonical_line(api, capfd):
    capfd.readouterr()
    response = api.get("/jobs", params={"limit": 3})
    assert response.status_code == 200
    logging.getLogger("gateway_scheduler.tests").warning("a %s warning", "stdlib")  # flushes the buffer
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]  # all JSON
    mine = [line for line in lines if line.get("request_id") == response.headers["x-request-id"]]
    assert len(mine) == 1
    assert mine[0] | {"duration_ms": 0, "timestamp": ""} == {
        "event": "request_completed", "method": "GET", "path": "/api/v1/scheduler/jobs", "status": 200,
        "gateway_id": api.gateway_id, "request_id": response.headers["x-request-id"], "level": "info",
        "duration_ms": 0, "timestamp": "",
    }
    assert mine[0]["timestamp"].endswith("Z")
    assert {"event": "a stdlib warning", "level": "warning"}.items() <= lines[-1].items()


def test_info_lines_wait_in_the_buffer_and_an_error_flushes_them():
    stream = io.StringIO()
    sink = LineSink(lambda: stream, every=3600)
    sink.info("first")
    assert stream.getvalue() == ""  # still buffered
    sink.error("second")
    assert stream.getvalue() == "first\nsecond\n"


def test_the_flusher_thread_writes_buffered_lines_soon():
    stream = io.StringIO()
    sink = LineSink(lambda: stream, every=0.05)
    sink.info(b"third")
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue() == "third\n"


def test_an_unexpected_error_is_a_500_envelope_whose_request_id_is_in_the_log(api, capfd, monkeypatch):
    from projections import job_queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(job_queries, "job_detail", broken)
    capfd.readouterr()
    response = api.get("/jobs/job_abcdefghijkl")
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "INTERNAL_ERROR"
    request_id = response.headers["x-request-id"]
    assert body["error"]["details"]["request_id"] == request_id
    flush_logs()
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]
    logged = [line for line in lines if line.get("event") == "unhandled_exception"]
    assert len(logged) == 1 and logged[0]["request_id"] == request_id and "RuntimeError: a bug" in logged[0]["exception"]
    assert [line["status"] for line in lines if line.get("event") == "request_completed"] == [500]
