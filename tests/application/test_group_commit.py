"""Group commit at the one commit point, on PostgreSQL: concurrent commands arriving together are
saved together; each keeps its own outcome (its positions, or its own error), the job limit holds
and a batch that loses a race with another writer falls back to one command at a time."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from application.commands import CommandContext, CreateJob, UpdateJob
from application.scheduler import Saved, Scheduler
from domain.errors import MaxJobsExceeded, SchedulerError, VersionConflict
from domain.identity import gateway_uuid, job_uuid
from interfaces.database import eventsourcing_env
from projections.job_queries import job_detail

ACTION = {"type": "publish", "topic": "t/group", "payload_template": "x"}
DEADLINE = 30.0


def _create(gateway_id: str, job_id: str | None = None, name: str = "n") -> CreateJob:
    return CreateJob(gateway_id=gateway_id, name=name, type="interval", schedule={"interval_seconds": 60},
                     action=ACTION, job_id=job_id)


def _gateway() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def app(runtime: Any) -> Iterator[Scheduler]:
    """An application of its own on the session's database (as another process would be)."""
    scheduler = Scheduler(eventsourcing_env(runtime.url, pool_size=8), max_jobs=1000)
    try:
        yield scheduler
    finally:
        scheduler.close()


def _stored_job_ids(app: Scheduler, gateway_id: str) -> list[str]:
    return list(app.repository.get(gateway_uuid(gateway_id), version=10**9).job_ids)


def _concurrently(count: int, work: Any) -> list[Any]:
    """`work(i)` in `count` threads started together; each outcome (a result or the exception)."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(DEADLINE)
        try:
            return work(i)
        except SchedulerError as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


class HeldScheduler(Scheduler):
    """Holds its first save until `waiting` other commands are queued behind it."""

    name = "Scheduler"  # the same tables

    waiting = 0
    batches: list[int]

    def execute_batch(self, items: Any) -> Any:
        self.batches.append(len(items))
        if len(self.batches) == 1:
            deadline = time.monotonic() + DEADLINE
            while len(self.committer._queue) < self.waiting:
                assert time.monotonic() < deadline, "the other commands never queued"
                time.sleep(0.001)
        return super().execute_batch(items)


def test_commands_arriving_while_a_batch_is_saved_are_saved_together_in_the_next(runtime: Any):
    app = HeldScheduler(eventsourcing_env(runtime.url, pool_size=4))
    app.batches, app.waiting = [], 24
    gateway_id = _gateway()
    try:
        outcomes = _concurrently(25, lambda i: app.execute(_create(gateway_id, name=f"j{i}"), CommandContext("t", f"r{i}")))
        assert all(isinstance(o, Saved) for o in outcomes), outcomes
        assert app.batches == [1, 24]
        created = {o.job.job_id for o in outcomes}
        assert len(created) == 25
        assert sorted(_stored_job_ids(app, gateway_id)) == sorted(created)
        for outcome in outcomes:  # each answer has its own events' positions, found in the store
            topics = [topic.rsplit(":", 1)[1] for topic, _ in outcome.recorded]
            assert topics[-2:] == ["Gateway.JobAdded", "Job.Created"] and set(topics) <= {
                "Gateway.Created", "Gateway.JobAdded", "Job.Created"}
            created_at = dict((t.rsplit(":", 1)[1], p) for t, p in outcome.recorded)["Job.Created"]
            stored = app.recorder.select_notifications(start=created_at, limit=1)[0]
            assert stored.originator_id == job_uuid(gateway_id, outcome.job.job_id)
            assert [type(e).__qualname__ for e in app.events.get(job_uuid(gateway_id, outcome.job.job_id))] == [
                "Job.Created"]
        positions = [p for o in outcomes for _, p in o.recorded]
        assert len(positions) == len(set(positions)) == 25 * 2 + 1
    finally:
        app.close()


def test_concurrent_creates_in_one_gateway_are_all_saved_once(app: Scheduler):
    gateway_id = _gateway()
    outcomes = _concurrently(32, lambda i: [
        app.execute(_create(gateway_id, name=f"j{i}-{k}"), CommandContext("t", None)) for k in range(5)])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    created = [saved.job.job_id for made in outcomes for saved in made]
    assert len(created) == len(set(created)) == 160
    assert sorted(_stored_job_ids(app, gateway_id)) == sorted(created)


def test_the_job_limit_holds_under_concurrent_creates_in_two_applications(runtime: Any):
    limit, gateway_id = 40, _gateway()
    apps = [Scheduler(eventsourcing_env(runtime.url, pool_size=8), max_jobs=limit) for _ in range(2)]
    try:
        def work(i: int) -> list[Any]:
            made = []
            for k in range(6):
                try:
                    made.append(apps[i % 2].execute(_create(gateway_id, name=f"j{i}-{k}"), CommandContext("t", None)))
                except MaxJobsExceeded as error:
                    made.append(error)
            return made

        outcomes = [o for made in _concurrently(16, work) for o in made]
        saved = [o for o in outcomes if isinstance(o, Saved)]
        refused = [o for o in outcomes if isinstance(o, MaxJobsExceeded)]
        assert len(saved) == limit and len(refused) == 16 * 6 - limit, outcomes
        assert sorted(_stored_job_ids(apps[0], gateway_id)) == sorted(s.job.job_id for s in saved)
    finally:
        for one in apps:
            one.close()


def test_a_refused_command_in_a_batch_fails_alone(app: Scheduler):
    gateway_id = _gateway()
    kept = app.execute(_create(gateway_id, job_id="kept"), CommandContext("t", None)).job
    assert kept is not None
    context = CommandContext("t", "r")
    outcomes = app.execute_batch([
        (_create(gateway_id, job_id="a"), context),
        (UpdateJob(gateway_id, "kept", name="stale", expected_version=kept.version + 5), context),
        (_create(gateway_id, job_id="kept"), context),  # the id is taken
        (UpdateJob(gateway_id, "kept", name="renamed", expected_version=kept.version), context),
        (UpdateJob(gateway_id, "kept", name="stale too", expected_version=kept.version), context),  # lost to the one before
        (_create(gateway_id, job_id="b", name=""), context),  # invalid: no name
        (_create(gateway_id, job_id="c"), context),
    ])
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds[0] == kinds[3] == kinds[6] == "Saved"
    assert kinds[1] == kinds[2] == kinds[4] == "VersionConflict"
    assert isinstance(outcomes[5], SchedulerError) and not isinstance(outcomes[5], VersionConflict)
    assert sorted(_stored_job_ids(app, gateway_id)) == ["a", "c", "kept"]
    assert app.job(gateway_id, "kept").config.name == "renamed"
    assert app.job_ever(gateway_id, "b") is None


def test_each_answer_of_a_batch_shows_its_own_command_s_state(app: Scheduler):
    gateway_id = _gateway()
    context = CommandContext("t", None)
    created, renamed = app.execute_batch([
        (_create(gateway_id, job_id="x", name="first"), context),
        (UpdateJob(gateway_id, "x", name="second"), context),
    ])
    assert isinstance(created, Saved) and isinstance(renamed, Saved)
    assert (created.job.config.name, created.job.version) == ("first", 1)
    assert (renamed.job.config.name, renamed.job.version) == ("second", 2)
    assert [t.rsplit(":", 1)[1] for t, _ in created.recorded] == ["Gateway.Created", "Gateway.JobAdded", "Job.Created"]
    assert [t.rsplit(":", 1)[1] for t, _ in renamed.recorded] == ["Job.Updated"]
    assert max(p for _, p in created.recorded) < renamed.recorded[0][1]  # recorded in command order


class RacingClock:
    """Lets another application change a job the first time it is armed and the clock is read."""

    def __init__(self, other: Scheduler, gateway_id: str, job_id: str) -> None:
        self.other, self.gateway_id, self.job_id, self.armed = other, gateway_id, job_id, False

    def __call__(self) -> datetime:
        if self.armed:
            self.armed = False
            self.other.update_job(self.gateway_id, self.job_id, {"description": "raced"}, actor="other")
        return datetime.now(UTC)


def test_a_batch_that_loses_a_race_is_executed_one_command_at_a_time(runtime: Any, app: Scheduler):
    gateway_id = _gateway()
    app.execute(_create(gateway_id, job_id="x"), CommandContext("t", None))
    clock = RacingClock(app, gateway_id, "x")
    racer = Scheduler(eventsourcing_env(runtime.url, pool_size=2), clock=clock)
    try:
        context = CommandContext("t", None)
        version = racer.job(gateway_id, "x").version
        clock.armed = True  # read by the second command, after the first loaded job x
        outcomes = racer.execute_batch([
            (UpdateJob(gateway_id, "x", name="renamed"), context),
            (_create(gateway_id, job_id="y"), context),
            (UpdateJob(gateway_id, "x", tags=("t",), expected_version=version), context),
        ])
        assert [type(o).__name__ for o in outcomes] == ["Saved", "Saved", "VersionConflict"]
        job = app.job(gateway_id, "x")
        assert (job.config.name, job.config.description, job.config.tags) == ("renamed", "raced", [])
        assert sorted(_stored_job_ids(app, gateway_id)) == ["x", "y"]
    finally:
        racer.close()


def test_every_concurrent_caller_reads_its_own_write(runtime: Any):
    gateway_id = _gateway()

    def work(i: int) -> bool:
        saved = runtime.app.execute(_create(gateway_id, name=f"mine-{i}"), CommandContext("t", None))
        assert runtime.wait(saved.recorded, timeout=DEADLINE)
        detail = job_detail(runtime.reads, gateway_id, saved.job.job_id, datetime.now(UTC))
        return detail["name"] == f"mine-{i}"

    assert _concurrently(16, work) == [True] * 16
