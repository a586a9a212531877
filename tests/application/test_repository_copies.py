"""Aggregates handed out from the repository's cache are each one version's state, even while
other threads fast-forward the same cached object (in-memory store: the logic, fast)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid

from application.scheduler import Scheduler
from domain.identity import gateway_uuid
from tests.conftest import job_body

SECONDS = 3.0


def test_copies_of_a_gateway_loaded_from_its_snapshot_never_mix_two_versions():
    app = Scheduler({"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "100"}, max_jobs=10_000)
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    for _ in range(120):  # past the snapshot at version 100
        app.create_job(gateway_id, job_body(), actor="t")
    aggregate_id = gateway_uuid(gateway_id)
    assert list(app.snapshots.get(aggregate_id))
    # As the LRU would: the next load is from the snapshot (creates decide on the copy they last
    # saved, application/saved.py, so the gateway may not be in the repository's cache at all).
    with contextlib.suppress(KeyError):
        app.repository.cache.get(aggregate_id, evict=True)
    stop = time.monotonic() + SECONDS
    torn: list[tuple[int, int, int]] = []

    def write() -> None:
        while time.monotonic() < stop:
            app.create_job(gateway_id, job_body(), actor="t")

    def read() -> None:
        while time.monotonic() < stop:
            copy = app.gateway(gateway_id)
            recorded = app.repository.get(aggregate_id, version=copy.version)
            if copy.job_ids != recorded.job_ids:
                torn.append((copy.version, len(copy.job_ids), len(recorded.job_ids)))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert not torn, f"copies mixed two versions (version, ids in the copy, ids recorded): {torn[:5]}"


def test_a_create_decides_on_a_copy_of_the_saved_gateway_that_shares_nothing_it_changes():
    app = Scheduler({"PERSISTENCE_MODULE": "eventsourcing.popo"}, max_jobs=10_000)
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    for _ in range(3):
        app.create_job(gateway_id, job_body(), actor="t")
    saved = app.saved_gateways._by_id[gateway_uuid(gateway_id)]
    ids, version = list(saved.job_ids), saved.version
    # Every part of a Gateway's state is an immutable value or a list of them (what the copy relies on).
    for name, value in vars(saved).items():
        for item in value if isinstance(value, list) else [value]:
            assert isinstance(item, (str, int, float, uuid.UUID, type(None))) or hasattr(item, "tzinfo"), name
    copy = app.saved_gateway(gateway_id)
    assert copy is not saved and copy.job_ids == ids and copy.version == version and not copy.pending_events
    copy.add_job("job_extra", max_jobs=10_000, now=app.clock())
    assert saved.job_ids == ids and saved.version == version and not saved.pending_events
    app.create_job(gateway_id, job_body(), actor="t")  # decides on a fresh copy of the saved one
    assert len(app.gateway(gateway_id).job_ids) == 4 and "job_extra" not in app.gateway(gateway_id).job_ids


def test_a_snapshot_taken_of_the_saved_gateway_holds_what_its_events_rebuild():
    from eventsourcing.application import project_aggregate

    app = Scheduler({"PERSISTENCE_MODULE": "eventsourcing.popo"}, max_jobs=10_000)
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    for _ in range(105):  # the gateway's version 100 is its 99th JobAdded
        app.create_job(gateway_id, job_body(), actor="t")
    (snapshot,) = app.snapshots.get(gateway_uuid(gateway_id))
    rebuilt = project_aggregate(None, list(app.events.get(gateway_uuid(gateway_id), lte=snapshot.originator_version)))
    assert snapshot.originator_version == 100 and snapshot.mutate(None) == rebuilt
