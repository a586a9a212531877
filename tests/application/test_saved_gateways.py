"""A create decides on the Gateway as this process last saved it (no fast-forward read): when
another process has moved the gateway since, the store refuses that decision and the create runs
again on fresh state; a refusal at the job limit is never decided on that copy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from application.commands import CommandContext, CreateJob, DeleteJob
from application.scheduler import Scheduler
from domain.errors import MaxJobsExceeded
from domain.identity import gateway_uuid
from interfaces.database import eventsourcing_env

ACTION = {"type": "publish", "topic": "t/saved", "payload_template": "x"}
CONTEXT = CommandContext("tester", None)


def _create(gateway_id: str) -> CreateJob:
    return CreateJob(gateway_id=gateway_id, name="n", type="interval", schedule={"interval_seconds": 60}, action=ACTION)


@pytest.fixture
def two(runtime: Any) -> Any:
    """Two applications on one database, as two processes."""
    apps = [Scheduler(eventsourcing_env(runtime.url, pool_size=2), max_jobs=10) for _ in range(2)]
    yield apps
    for app in apps:
        app.close()


def _job_ids(app: Scheduler, gateway_id: str) -> list[str]:
    gateway = app.gateway(gateway_id)
    assert gateway is not None
    return gateway.job_ids


def test_a_create_on_a_gateway_another_process_moved_runs_again_on_fresh_state(two: Any):
    this, other = two
    gw = f"gw-{uuid.uuid4().hex[:8]}"
    first = this.execute(_create(gw), CONTEXT).job.job_id
    assert this.saved_gateway(gw) is not None  # this process now decides creates on its own copy
    second = other.execute(_create(gw), CONTEXT).job.job_id
    third = this.execute(_create(gw), CONTEXT).job.job_id  # decided on the copy without `second`...
    assert sorted(_job_ids(other, gw)) == sorted([first, second, third])  # ...refused, and run again
    assert [e.originator_version for e in this.events.get(gateway_uuid(gw))] == [1, 2, 3, 4]


def test_a_batch_of_creates_on_a_moved_gateway_runs_again_on_fresh_state(two: Any):
    this, other = two
    gw = f"gw-{uuid.uuid4().hex[:8]}"
    this.execute(_create(gw), CONTEXT)
    other.execute(_create(gw), CONTEXT)
    outcomes = this.execute_batch([(_create(gw), CONTEXT), (_create(gw), CONTEXT)])
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert len(_job_ids(other, gw)) == 4


def test_the_limit_is_decided_on_fresh_state_not_on_the_saved_copy(two: Any):
    this, other = two
    this.max_jobs = other.max_jobs = 3
    gw = f"gw-{uuid.uuid4().hex[:8]}"
    jobs = [this.execute(_create(gw), CONTEXT).job.job_id for _ in range(3)]  # at the limit (3)
    with pytest.raises(MaxJobsExceeded):
        this.execute(_create(gw), CONTEXT)
    other.execute(DeleteJob(gw, jobs[0]), CONTEXT)  # room again, which this process's copy lacks
    created = this.execute(_create(gw), CONTEXT).job.job_id
    assert sorted(_job_ids(other, gw)) == sorted([*jobs[1:], created])
