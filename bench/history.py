"""Audit and time travel on a long-lived job: the audit's first page, `as_of` at random instants
and `fires` over one day of a 10 s job (8,640 instants), p50/p99 of each, against the job detail
query (GET /jobs/{id}'s) on the same database in the same run as the baseline.

Run: .venv/bin/python bench/history.py [--samples 200]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL; a fresh database, dropped after.
- The job: an interval 10 s job with 1,000 configuration events through the commit point (renames,
  tag edits and toggles, one every 1,000 s of a clock set back ~11.6 days), projected by the real
  projections (the audit read model among them).
- 100,000 executions of it, one per instant over those days, written straight into the execution
  history read model (`executions`) with one INSERT ... SELECT: the reads measured here are of that
  table; recording 200,000 events through the projections would take most of the run.
- The queries are the route's own functions (projections/audit_queries.py, projections/fires_queries.py),
  called in-process: no HTTP, so the figures are the read path's.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interfaces.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402
from interfaces.settings import Settings  # noqa: E402
from projections import audit_queries, job_queries  # noqa: E402
from projections.fires_queries import _RUNS, job_fires  # noqa: E402
from projections.execution_counts import recount  # noqa: E402

GATEWAY = "gw-bench-history"
CONFIG_EVENTS = 1000
EXECUTIONS = 100_000
STEP = timedelta(seconds=1000)  # between configuration events


class SteppedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    server_url, embedded, base = os.environ.get("DATABASE_URL"), None, None
    if not server_url:
        base = Path(tempfile.mkdtemp(prefix="gs-bench-"))
        base.chmod(0o755)
        embedded = EmbeddedPostgres(base / "pgdata")
        server_url = embedded.url
    url = create_database(server_url, "gs_bench_history")
    real_now = datetime.now(UTC).replace(microsecond=0)
    start = real_now - STEP * (CONFIG_EVENTS + 1)
    clock = SteppedClock(start)
    runtime = Runtime(replace(Settings(), database_url=url, jwt_secret="bench", execution_retention_days=3650),
                      clock=clock).start()
    try:
        app = runtime.app
        began = time.perf_counter()
        job = app.create_job(GATEWAY, {"name": "poll", "type": "interval", "schedule": {"interval_seconds": 10},
                                       "action": {"type": "publish", "topic": "device/data"}}, actor="bench").job
        enabled, saved = True, None
        for i in range(CONFIG_EVENTS - 1):
            clock.now += STEP
            if i % 3 == 2:
                enabled = not enabled
                saved = app.toggle_job(GATEWAY, job.job_id, enabled=enabled, reason=f"toggle {i}", actor=f"user{i % 7}")
            else:
                saved = app.update_job(GATEWAY, job.job_id, {"name": f"poll {i}", "tags": [f"t{i % 5}"]},
                                       actor=f"user{i % 7}")
        assert saved is not None and runtime.wait(saved.recorded, timeout=300)
        config_s = time.perf_counter() - began
        anchor = job.config.schedule_anchor
        with runtime.reads.pool.connection() as conn:
            conn.execute(
                "INSERT INTO executions (gateway_id, execution_id, aggregate_id, job_id, job_name, trigger, status,"
                " scheduled_for, start_time, end_time, duration_ms)"
                " SELECT %(g)s, 'exec_' || k, gen_random_uuid(), %(j)s, 'poll', 'scheduled',"
                "  CASE WHEN k %% 50 = 0 THEN 'failed' ELSE 'success' END, %(a)s + k * interval '10 seconds',"
                "  %(a)s + k * interval '10 seconds', %(a)s + k * interval '10 seconds' + interval '120 ms', 120"
                " FROM generate_series(1, %(n)s) k",
                {"g": GATEWAY, "j": job.job_id, "a": anchor, "n": EXECUTIONS},
            )
            recount(conn, GATEWAY, job.job_id)  # as the projection keeps them (projections/execution_counts.py)
            conn.execute("ANALYZE executions")
            conn.execute("ANALYZE job_versions")
        clock.now = real_now
        last = anchor + timedelta(seconds=10 * EXECUTIONS)
        print(f"set-up: {CONFIG_EVENTS} configuration events in {config_s:.1f} s, {EXECUTIONS:,} executions "
              f"({anchor:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC)")
        reads, job_id = runtime.reads, job.job_id
        rnd = random.Random(13)
        span = (last - anchor).total_seconds()

        def random_instant() -> datetime:
            return anchor + timedelta(seconds=rnd.uniform(0, span))

        def fires_day() -> object:
            day = anchor + timedelta(seconds=rnd.uniform(0, span - 86400))
            found = job_fires(reads, GATEWAY, job_id, day, day + timedelta(days=1), now=real_now, pruned_before=None)
            assert len(found.entries) >= 8640 and not found.truncated, len(found.entries)
            return found

        def fires_rows() -> object:
            day = anchor + timedelta(seconds=rnd.uniform(0, span - 86400))
            with reads.pool.connection() as conn:
                return conn.execute(_RUNS, {"gateway_id": GATEWAY, "job_id": job_id, "start": day,
                                            "end": day + timedelta(days=1)}, prepare=True).fetchall()

        rows = [
            ("baseline: job detail", lambda: job_queries.job_detail(reads, GATEWAY, job_id, real_now), args.samples),
            ("audit first page (50)", lambda: audit_queries.job_audit(reads, GATEWAY, job_id, 50, 0), args.samples),
            ("as_of random instant", lambda: audit_queries.job_as_of(reads, GATEWAY, job_id, as_of=random_instant()),
             args.samples),
            ("fires, one day (8,640)", fires_day, max(20, args.samples // 10)),
            ("  of which the rows", lambda: fires_rows(), max(20, args.samples // 10)),
        ]
        for _, fn, _n in rows:  # warm the pool and the plans
            fn()
        print(f"{'query':26} {'samples':>7} {'p50 ms':>8} {'p99 ms':>8} {'p99 / baseline p99':>19}")
        base_p99 = None
        for name, fn, n in rows:
            p50, p99 = percentiles(timed(fn, n))
            base_p99 = base_p99 or p99
            print(f"{name:26} {n:7d} {p50:8.2f} {p99:8.2f} {p99 / base_p99:19.2f}")
    finally:
        runtime.close()
        drop_database(server_url, url)
        if embedded is not None:
            embedded.stop()
            shutil.rmtree(base, ignore_errors=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
