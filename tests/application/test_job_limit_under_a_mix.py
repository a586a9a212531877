"""The per-gateway job limit holds under a concurrent mix of creates, updates and deletes, also
when the Gateway aggregate was loaded from its snapshot (as after a restart or a cache eviction)."""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from application.scheduler import Scheduler
from domain.errors import SchedulerError
from domain.identity import gateway_uuid
from interfaces.database import eventsourcing_env
from tests.conftest import job_body

LIMIT = 120  # many job ids: a copy of the Gateway takes long enough to meet a fast-forward
THREADS = 6
READERS = 3
SECONDS = 8.0


def _fill_past_a_snapshot(app: Scheduler, gateway_id: str) -> list[str]:
    """LIMIT - 1 jobs: over 100 Gateway events, so the gateway has a snapshot."""
    saved = app.max_jobs
    app.max_jobs = LIMIT
    try:
        kept = [app.create_job(gateway_id, job_body(name="kept"), actor="t").job.job_id for _ in range(LIMIT - 1)]
    finally:
        app.max_jobs = saved
    assert list(app.snapshots.get(gateway_uuid(gateway_id))), "no Gateway snapshot was taken"
    return kept


def test_the_job_limit_holds_under_a_concurrent_mix_after_loading_from_a_snapshot(runtime: Any):
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    ids = _fill_past_a_snapshot(runtime.app, gateway_id)
    # a second application on the same database, as a process started after the snapshot
    app = Scheduler(eventsourcing_env(runtime.url, pool_size=THREADS), max_jobs=LIMIT)
    lock = threading.Lock()
    over: list[int] = []
    stop = time.monotonic() + SECONDS

    def work(seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop:
            with lock:
                pick = rnd.choice(ids) if ids else None
            try:
                if pick is None or rnd.random() < 0.5:
                    saved = app.create_job(gateway_id, job_body(name="mix"), actor="t")
                    with lock:
                        ids.append(saved.job.job_id)
                elif rnd.random() < 0.6:
                    app.update_job(gateway_id, pick, {"name": "changed"}, actor="t")
                else:
                    app.delete_job(gateway_id, pick, actor="t")
                    with lock:
                        if pick in ids:
                            ids.remove(pick)
            except SchedulerError:
                pass  # MAX_JOBS_EXCEEDED, JOB_NOT_FOUND (deleted meanwhile), VERSION_CONFLICT
            recorded = len(app.repository.get(gateway_uuid(gateway_id), version=sys.maxsize).job_ids)
            if recorded > LIMIT:
                over.append(recorded)

    torn: list[tuple[int, int, int]] = []

    def read() -> None:
        """As the dispatcher and the API read the gateway: each copy must be one version's state."""
        while time.monotonic() < stop:
            copy = app.gateway(gateway_id)
            recorded = app.repository.get(gateway_uuid(gateway_id), version=copy.version)
            if copy.job_ids != recorded.job_ids:
                torn.append((copy.version, len(copy.job_ids), len(recorded.job_ids)))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the threads finely, as a busy server does
    try:
        with ThreadPoolExecutor(THREADS + READERS) as pool:
            readers = [pool.submit(read) for _ in range(READERS)]
            list(pool.map(work, range(THREADS)))
            for reader in readers:
                reader.result()
    finally:
        sys.setswitchinterval(switch)
        app.close()
    final = runtime.app.repository.get(gateway_uuid(gateway_id), version=sys.maxsize)
    assert len(final.job_ids) <= LIMIT, f"{len(final.job_ids)} jobs recorded (max {LIMIT})"
    assert not over, f"the log held more than {LIMIT} jobs at times: {sorted(set(over))}"
    assert not torn, f"copies of the gateway mixed two versions (version, ids, recorded ids): {torn[:5]}"
