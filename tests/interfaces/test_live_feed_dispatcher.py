"""The live feed of runs a real dispatcher carries out in another OS process (`gateway-scheduler
worker`, as the fault harness starts it) reaching a client of this process's API over a real
socket: started and completed runs, a group of jobs due at one instant (schedule_event, started
then completed), a failing
run with its retries, instants recorded missed while the worker was paused, and the worker's
resource sampler through a low threshold (psutil)."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import job_body, token
from tests.faults.processes import WorkerProcess, free_port, wait_for
from tests.interfaces.test_live_feed import (  # noqa: F401
    caught_up,
    read_until,
    served,
    server,
    subscribed,
)

WAIT = 60.0  # a worker process on a loaded machine: start-up, then the runs


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    # The session's database as a URL a worker's settings take and WorkerProcess can append its
    # application_name to (the embedded server's is a socket directory: given as the host parameter).
    parts = conninfo_to_dict(database_url)
    url = f"postgresql://{parts.get('user', 'postgres')}@/{parts['dbname']}?" + urlencode(
        {"host": parts.get("host", "127.0.0.1"), "port": parts.get("port", 5432)})

    def start(gateway_id: str, mqtt: str, **env: str) -> WorkerProcess:
        worker = WorkerProcess(f"live-{gateway_id}", gateway_id, url, mqtt, tmp_path, extra_env=env).start()
        started.append(worker)
        wait_for(worker.ready, WAIT, what=f"worker {gateway_id} ready")
        return worker

    yield start
    for worker in started:
        worker.stop()


def _create(server: str, gateway_id: str, **fields: Any) -> str:  # noqa: F811
    headers = {"Authorization": f"Bearer {token('operator', [gateway_id])}", "X-Gateway-ID": gateway_id}
    answer = httpx.post(f"http://{server}/api/v1/scheduler/jobs", json=job_body(**fields), headers=headers, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["job_id"]


def _until(ws: Any, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while not done(messages):
        assert time.monotonic() < deadline, f"gave up waiting; received {messages}"
        try:
            messages.append(json.loads(ws.recv(timeout=1)))
        except TimeoutError:
            continue
    return messages


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _of(messages: list[dict[str, Any]], kind: str, job_id: str | None = None) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind and (job_id is None or m["data"].get("job_id") == job_id)]


def test_runs_of_a_dispatcher_in_another_process_reach_this_processs_client(server, workers, mqtt_url):  # noqa: F811
    gw = f"gw-{uuid.uuid4().hex[:10]}"
    ws = subscribed(server, gw)
    read_until(ws, caught_up)
    worker = workers(gw, mqtt_url, SCHEDULER_RESOURCE_SAMPLE_SECONDS="0.5", SCHEDULER_DISK_ALERT_PERCENT="0.01")
    at = _at(10)  # the three jobs must all be created before their instant, also on a loaded machine
    group = [_create(server, gw, name=f"Together {i}", type="once", schedule={"at": at}, tags=[f"t{i}"])
             for i in range(3)]
    messages = _until(ws, lambda ms: len(_of(ms, "job_completed")) == 3 and len(_of(ms, "schedule_event")) == 2
                      and _of(ms, "resource_alert"))
    for job_id in group:
        (started,) = _of(messages, "job_started", job_id)
        (completed,) = _of(messages, "job_completed", job_id)
        assert started["data"]["trigger"] == "scheduled" and started["data"]["scheduled_for"] == at
        assert completed["data"]["execution_id"] == started["data"]["execution_id"]
        assert completed["data"]["status"] == "success" and started["position"] < completed["position"]
    announced, completed = _of(messages, "schedule_event")
    data = announced["data"]
    instant_id = "instant_" + at[:19].translate(str.maketrans("", "", "-T:")) + "000"
    assert (data["schedule_id"], data["job_count"], data["status"], data["scheduled_for"]) == (instant_id, 3, "started", at)
    assert sorted(data["job_ids"]) == sorted(group)
    assert announced["position"] < min(m["position"] for m in _of(messages, "job_completed"))
    # and its completion once the last of its runs ended, in that run's transaction
    data = completed["data"]
    assert (data["schedule_id"], data["job_count"], data["status"], data["scheduled_for"]) == (instant_id, 3, "completed", at)
    assert sorted(data["job_ids"]) == sorted(group)
    assert completed["position"] == max(m["position"] for m in _of(messages, "job_completed")) + 1
    alert = _of(messages, "resource_alert")[0]["data"]
    assert alert["resource"] == "disk" and alert["state"] == "raised" and alert["level"] == "warning"

    # Paused past the grace: the instants of a job with misfire_policy skip are recorded missed.
    ticking = _create(server, gw, name="Ticking", schedule={"interval_seconds": 1}, options={"misfire_policy": "skip"})
    _until(ws, lambda ms: _of(ms, "job_completed", ticking))
    worker.signal(signal.SIGSTOP)
    time.sleep(4)  # the pause itself is the fault under test; what follows waits for its effect
    worker.signal(signal.SIGCONT)
    missed = _of(_until(ws, lambda ms: _of(ms, "job_missed", ticking)), "job_missed", ticking)[0]
    assert missed["data"]["reason"] and missed["data"]["scheduled_for"].endswith("Z")
    ws.close()


def test_a_failing_run_with_retries_sends_job_failed_with_error_and_retry_count(server, workers):  # noqa: F811
    gw = f"gw-{uuid.uuid4().hex[:10]}"
    ws = subscribed(server, gw, types=["job_started", "job_failed", "job_completed"])
    read_until(ws, caught_up)
    workers(gw, f"mqtt://127.0.0.1:{free_port()}")  # no broker there: every publish fails
    job_id = _create(server, gw, name="Doomed", type="once", schedule={"at": _at(3)},
                     options={"max_attempts": 3, "backoff_seconds": 0.2, "backoff_multiplier": 1, "timeout_seconds": 5})
    messages = _until(ws, lambda ms: any(not m["data"]["will_retry"] for m in _of(ms, "job_failed")))
    failures = _of(messages, "job_failed", job_id)
    assert [(m["data"]["retry_count"], m["data"]["will_retry"], m["data"]["status"]) for m in failures] == [
        (0, True, "retrying"), (1, True, "retrying"), (2, False, "failed")]
    assert all(m["data"]["error"] and m["data"]["code"] == "ACTION_FAILED" for m in failures)
    assert len({m["data"]["execution_id"] for m in failures}) == 1 and not _of(messages, "job_completed")
    ws.close()


def test_a_run_all_is_a_schedule_event_started_then_completed(server, workers, mqtt_url):  # noqa: F811
    gw = f"gw-{uuid.uuid4().hex[:10]}"
    ws = subscribed(server, gw, types=["schedule_event"])
    read_until(ws, caught_up)
    workers(gw, mqtt_url)
    jobs = [_create(server, gw, name=f"Later {i}", type="once", schedule={"at": _at(3600)}) for i in range(2)]
    headers = {"Authorization": f"Bearer {token('admin', [gw])}", "X-Gateway-ID": gw}
    answer = httpx.post(f"http://{server}/api/v1/scheduler/jobs/run/all", json={}, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    group_id = answer.json()["data"]["execution_group_id"]
    started, completed = _until(ws, lambda ms: len(ms) == 2)
    assert started["data"] == {"schedule_id": group_id, "job_count": 2, "status": "started", "job_ids": jobs,
                               "scheduled_for": None}
    assert completed["data"] == {"schedule_id": group_id, "job_count": 2, "status": "completed", "job_ids": [],
                                 "scheduled_for": None}
    assert started["position"] < completed["position"]
    ws.close()
