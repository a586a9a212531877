"""next_execution follows the fires recorded in the log: after a fire it is the next instant the
dispatcher will fire, in the job list, the detail and the gateway's job list; null when disabled."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from domain.execution import Execution
from tests.conftest import job_body
from tests.interfaces.contract import create_job, job_detail
from tests.interfaces.test_job_runs import worker_api  # noqa: F401 - a real worker in a gateway of its own
from tests.projections.execution_events import new_execution_id, save


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _everywhere(api: Any, job_id: str) -> set[Any]:
    listed = next(j for j in api.get("/jobs").json()["data"]["jobs"] if j["id"] == job_id)
    gateway = next(j for j in api.get(f"/gateways/{api.gateway_id}/jobs").json()["data"]["jobs"] if j["id"] == job_id)
    return {job_detail(api, job_id)["next_execution"], listed["schedule"]["next_execution"], gateway["next_execution"]}


def _fired(api: Any, job_id: str, at: datetime, *, trigger: str = "scheduled") -> Execution:
    return Execution.start(gateway_id=api.gateway_id, job_id=job_id, execution_id=new_execution_id(), job_name="j",
                           trigger=trigger, scheduled_for=at, now=at)


def test_a_recorded_fire_moves_next_execution_to_the_following_instant(api, runtime):
    job_id = create_job(api, schedule={"interval_seconds": 3600})
    (first,) = _everywhere(api, job_id)
    save(runtime, _fired(api, job_id, _instant(first)))
    assert _everywhere(api, job_id) == {(_instant(first) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")}
    missed = Execution.missed(gateway_id=api.gateway_id, job_id=job_id, execution_id=new_execution_id(), job_name="j",
                              scheduled_for=_instant(first) + timedelta(hours=1), reason="skipped", now=_instant(first))
    save(runtime, missed)
    assert _everywhere(api, job_id) == {(_instant(first) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")}


def test_a_manual_run_or_an_older_instant_leaves_next_execution_alone(api, runtime):
    job_id = create_job(api, schedule={"interval_seconds": 3600})
    (first,) = _everywhere(api, job_id)
    save(runtime, _fired(api, job_id, _instant(first), trigger="manual"))
    save(runtime, _fired(api, job_id, _instant(first) - timedelta(hours=5)))
    assert _everywhere(api, job_id) == {first}


def test_a_disabled_job_has_no_next_execution_whatever_is_recorded(api, runtime):
    job_id = create_job(api, schedule={"interval_seconds": 3600})
    (first,) = _everywhere(api, job_id)
    assert api.post(f"/jobs/{job_id}/toggle", {"enabled": False}).status_code == 200
    save(runtime, _fired(api, job_id, _instant(first)))
    assert _everywhere(api, job_id) == {None}


def test_next_execution_is_the_next_fire_of_a_running_dispatcher(worker_api):  # noqa: F811
    body = job_body(schedule={"interval_seconds": 1}, action={"type": "system", "operation": "health_check"})
    job_id = worker_api.post("/jobs", body).json()["data"]["job_id"]
    (first,) = _everywhere(worker_api, job_id)
    deadline = time.monotonic() + 15
    while True:  # wait for the condition asserted: two fires past the first instant
        history = worker_api.get(f"/jobs/{job_id}/history").json()["data"]["history"]
        if len(history) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(history) >= 2, history
    # The job fires every second: the three answers agree once no fire falls between their reads.
    deadline = time.monotonic() + 10
    while len(shown := _everywhere(worker_api, job_id)) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(shown) == 1, shown
    (next_execution,) = shown
    assert _instant(next_execution) > _instant(first)
    assert _instant(next_execution) > max(_instant(h["timestamp"]) for h in history) - timedelta(seconds=1)
