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
