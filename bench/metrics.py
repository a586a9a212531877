"""/jobs/{id}/metrics and /statistics on a job with 100,000 executions: each answer read with the
hourly roll-ups (whole hours from execution_hours, edge hours from the rows) and from the rows
alone, interleaved sample by sample in one run, with p50/p99 of each and the ratio; both answers
are checked equal first.

Run: .venv/bin/python bench/metrics.py [--samples 100]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL; a fresh database, dropped after.
- The job: created through the commit point; 100,000 completed executions of it (one every 10 s
  back from now, 95% success, durations 20..2,000 ms), written straight into the execution history
  read model with one INSERT ... SELECT, and their hourly roll-ups into execution_hours with one
  more, their runs and hourly peaks into analytics_runs and analytics_peak_hours with two more
  (what the analytics projection would hold after projecting them), as bench/api.py does for
  the rows alone: recording 200,000 events through the projections would take most of the run.
- The queries are the route's own functions (projections/execution_queries.py), called in-process.
- Also printed: this process's CPU per call, and the execution rows each statement set reads (from
  EXPLAIN ANALYZE), which do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import started_runtime  # noqa: E402
from projections import execution_queries as queries  # noqa: E402
from projections.analytics import BUCKETS  # noqa: E402
from projections.concurrency import HOURS_FROM_RUNS  # noqa: E402
from projections.execution_queries import Window  # noqa: E402
from projections.hourly_queries import job_periods  # noqa: E402

GATEWAY = "gw-bench-metrics"
Case = Callable[[Any, bool], object]  # (read store, read the roll-ups?) -> the answer
EXECUTIONS = 100_000

_SEED = (
    "INSERT INTO executions (gateway_id, execution_id, aggregate_id, job_id, job_name, trigger, status,"
    " scheduled_for, start_time, end_time, duration_ms)"
    " SELECT %(g)s, 'exec_' || k, md5('metrics-' || k)::uuid, %(j)s, 'poll', 'scheduled',"
    "  CASE WHEN k %% 20 = 0 THEN 'failed' ELSE 'success' END, %(now)s - k * interval '10 seconds',"
    "  %(now)s - k * interval '10 seconds', %(now)s - k * interval '10 seconds' + interval '1 second',"
    "  20 + (k * 7919) %% 1981 FROM generate_series(1, %(n)s) k"
)
# The analytics projection's rows for a job's completed executions (bench/api.py uses it too): bucket_of(ms) is floor(2 * log2(ms + 1)) + 1.
ROLL_UP = (
    "WITH c AS (SELECT gateway_id, job_id, date_trunc('hour', start_time, 'UTC') AS hour,"
    "   least(%(buckets)s - 1, floor(2 * log(2, duration_ms + 1)))::int + 1 AS bucket, count(*) AS n,"
    "   count(*) FILTER (WHERE status = 'success') AS ok, sum(duration_ms) AS ms"
    "   FROM executions WHERE gateway_id = %(g)s AND job_id = %(j)s AND status IN ('success', 'failed', 'timeout')"
    "   GROUP BY 1, 2, 3, 4),"
    " h AS (SELECT gateway_id, job_id, hour, sum(n) AS n, sum(ok) AS ok, sum(ms) AS ms,"
    "   jsonb_object_agg(bucket, n) AS b FROM c GROUP BY 1, 2, 3)"
    " INSERT INTO execution_hours (gateway_id, job_id, hour, executions, successes, failures, duration_ms, histogram)"
    " SELECT gateway_id, job_id, hour, n, ok, n - ok, ms,"
    "  array(SELECT coalesce((b ->> i::text)::int, 0) FROM generate_series(1, %(buckets)s) i) FROM h"
)

# The analytics projection's runs and hourly peaks for the gateway's executions that ran
# (projections/concurrency.py; bench/api.py uses them too).
RUNS = (
    "INSERT INTO analytics_runs (aggregate_id, gateway_id, job_id, start_time, end_time)"
    " SELECT aggregate_id, gateway_id, job_id, start_time, end_time FROM executions"
    " WHERE gateway_id = %(g)s AND status <> 'missed'"
)


def seed_peaks(conn: Any, gateway_id: str) -> None:
    conn.execute(RUNS, {"g": gateway_id})
    conn.execute(HOURS_FROM_RUNS, {"g": gateway_id})
    conn.execute("ANALYZE analytics_runs")
    conn.execute("ANALYZE analytics_peak_hours")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class _Explaining:
    """A read store that runs each statement under EXPLAIN ANALYZE and sums the rows its scans of
    `executions` and `execution_hours` (and the peaks' `analytics_runs`, `analytics_peak_hours`)
    read (returned or removed by a filter)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.rows = dict.fromkeys(("executions", "execution_hours", "analytics_runs", "analytics_peak_hours"), 0)

    def _count(self, plan: dict[str, Any]) -> None:
        if plan.get("Relation Name") in self.rows:
            read = int(plan.get("Actual Rows", 0)) + int(plan.get("Rows Removed by Filter", 0))
            self.rows[plan["Relation Name"]] += read * int(plan.get("Actual Loops", 1))
        for child in plan.get("Plans", []):
            self._count(child)

    def _explain(self, sql: str, params: Any) -> None:
        with self.store.pool.connection() as conn:
            found = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()
        plan = next(iter(found.values())) if isinstance(found, dict) else found[0]
        self._count((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])

    def one(self, sql: str, params: Any = None) -> Any:
        self._explain(sql, params)
        return self.store.one(sql, params)

    def all(self, sql: str, params: Any = None) -> Any:
        self._explain(sql, params)
        return self.store.all(sql, params)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    with started_runtime("gs_bench_metrics", execution_retention_days=3650) as runtime:
        saved = runtime.app.create_job(GATEWAY, {"name": "poll", "type": "interval", "schedule": {"interval_seconds": 10},
                                                 "action": {"type": "publish", "topic": "device/data"}}, actor="bench")
        assert runtime.wait(saved.recorded, timeout=60)
        job_id, now = saved.job.job_id, datetime.now(UTC)
        began = time.perf_counter()
        with runtime.reads.pool.connection() as conn:
            conn.execute(_SEED, {"g": GATEWAY, "j": job_id, "now": now, "n": EXECUTIONS})
            conn.execute(ROLL_UP, {"g": GATEWAY, "j": job_id, "buckets": BUCKETS})
            conn.execute("ANALYZE executions")
            conn.execute("ANALYZE execution_hours")
            seed_peaks(conn, GATEWAY)
        print(f"set-up: {EXECUTIONS:,} executions and their roll-ups in {time.perf_counter() - began:.1f} s "
              f"(last {EXECUTIONS * 10 / 86400:.1f} days)")
        reads, day, week = runtime.reads, timedelta(days=1), timedelta(days=7)

        def metrics(granularity: str, window: Window) -> Case:
            return lambda store, rollups: queries.job_metrics(store, GATEWAY, job_id, granularity, window,
                                                              rollups=rollups)

        def series(granularity: str, window: Window) -> Case:
            unit = queries.BUCKETS[granularity]
            return lambda store, rollups: job_periods(store, GATEWAY, job_id, unit, window.start, window.end,
                                                      queries.MAX_BUCKETS, rollups=rollups)

        def stats(since: datetime) -> Case:
            return lambda store, rollups: queries.statistics(store, GATEWAY, "x", since, now, rollups=rollups)

        cases = [
            ("metrics, all, daily (the default)", metrics("daily", Window())),
            ("metrics, all, hourly", metrics("hourly", Window())),
            ("metrics, 7 d cut mid-hour, hourly", metrics("hourly", Window(now - week, now))),
            ("metrics, 24 h cut mid-hour, hourly", metrics("hourly", Window(now - day, now))),
            ("  its series alone, all, hourly", series("hourly", Window())),
            ("  its series alone, 24 h, hourly", series("hourly", Window(now - day, now))),
            ("statistics, 7 d", stats(now - week)),
            ("statistics, 24 h", stats(now - day)),
        ]
        for name, fn in cases:
            assert fn(reads, True) == fn(reads, False), name  # the same answer from both paths
        print(f"{'query':38} {'path':8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7} {'rows read':>10}"
              f" {'p50 roll-up/rows':>17}")
        for name, fn in cases:
            samples: dict[bool, list[float]] = {True: [], False: []}
            cpu: dict[bool, float] = {True: 0.0, False: 0.0}
            for i in range(args.samples):
                for rollups in ((False, True) if i % 2 else (True, False)):  # interleaved: both see the same load
                    c0, t0 = time.process_time(), time.perf_counter()
                    fn(reads, rollups)
                    samples[rollups].append((time.perf_counter() - t0) * 1000)
                    cpu[rollups] += time.process_time() - c0
            p50s: dict[bool, float] = {}
            for rollups in (False, True):
                explaining = _Explaining(reads)
                fn(explaining, rollups)
                p50, p99 = percentiles(samples[rollups])
                p50s[rollups] = p50
                read = sum(explaining.rows.values())
                ratio = f"{p50s[True] / p50s[False]:17.2f}" if rollups else ""
                print(f"{name:38} {'roll-up' if rollups else 'rows':8} {p50:8.2f} {p99:8.2f}"
                      f" {cpu[rollups] * 1000 / args.samples:7.2f} {read:10,} {ratio}")
        print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
