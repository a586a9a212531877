"""The analytics projection on the real database: hourly roll-ups of completed executions equal
what the execution rows say, /statistics (whole hours from the roll-ups, edges from the rows)
answers what a scan of the rows answers, and retention takes out exactly what it prunes, so a
replay (`projections verify`) still finds the roll-ups equal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from domain.execution import Execution
from interfaces.database import conninfo, eventsourcing_env
from interfaces.maintenance import prune_executions
from projections.analytics import (
    AnalyticsProjection,
    AnalyticsView,
    bucket_of,
    bucket_upper_ms,
    p95_of,
)
from projections.execution_queries import statistics
from projections.verify import verify


def test_buckets_hold_their_durations_and_the_p95_reads_the_bucket_bound():
    for ms in (0, 1, 2, 3, 7, 100, 999, 1000, 60_000, 10**7):
        index = bucket_of(ms)
        assert ms <= bucket_upper_ms(index) and (index == 1 or ms > bucket_upper_ms(index - 1))
    histogram = [0] * 64
    for ms in [10] * 95 + [5000] * 5:
        histogram[bucket_of(ms) - 1] += 1
    assert p95_of(histogram) == bucket_upper_ms(bucket_of(10))
    histogram[bucket_of(5000) - 1] += 1
    assert p95_of(histogram) == bucket_upper_ms(bucket_of(5000))
    assert p95_of([0] * 64) == 0


def _record(runtime: Any, gateway_id: str, job_id: str, start: datetime, ms: int, ok: bool, n: int) -> None:
    execution = Execution.start(gateway_id=gateway_id, job_id=job_id, execution_id=f"exec_{n}_{uuid.uuid4().hex[:6]}",
                                job_name="A", trigger="scheduled", scheduled_for=start, now=start, max_attempts=2)
    end = start + timedelta(milliseconds=ms)
    if ok:
        execution.succeed(now=end, duration_ms=ms, message="ok", logs=[])
    else:
        assert execution.fail(now=end, duration_ms=ms, code="ACTION_FAILED", error="x", logs=[])  # will retry
        execution.retry(now=end)
        execution.fail(now=end, duration_ms=ms, code="ACTION_FAILED", error="x", logs=[])
    recordings = runtime.app.record([execution])
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings))


def _scan(runtime: Any, gateway_id: str, since: datetime) -> tuple[int, int, int]:
    row = runtime.reads.one(
        "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'success') AS ok, round(avg(duration_ms)) AS avg"
        " FROM executions WHERE gateway_id = %(g)s AND start_time >= %(s)s AND status IN ('success', 'failed', 'timeout')",
        {"g": gateway_id, "s": since})
    return row["n"], row["ok"], int(row["avg"] or 0)


def test_roll_ups_statistics_and_retention_agree_with_the_rows(runtime: Any, gateway_id: str) -> None:
    now = runtime.clock()
    hour = now.replace(minute=0, second=0, microsecond=0)
    starts = [hour - timedelta(hours=30, minutes=10), hour - timedelta(hours=5, minutes=59),
              hour - timedelta(hours=5, minutes=1), hour - timedelta(hours=2), hour - timedelta(minutes=20)
              if now - hour > timedelta(minutes=20) else hour, now - timedelta(seconds=1)]
    durations = [40, 120, 3000, 10, 75, 5]
    for n, (start, ms) in enumerate(zip(starts, durations, strict=True)):
        _record(runtime, gateway_id, "job-a", start, ms, ok=n % 3 != 1, n=n)

    rows = runtime.reads.all(
        "SELECT hour, executions, successes, failures, duration_ms, histogram FROM execution_hours"
        " WHERE gateway_id = %(g)s ORDER BY hour", {"g": gateway_id})
    five = [r for r in rows if r["hour"] == hour - timedelta(hours=6)][0]  # 5:59 and 5:01 before: one hour
    assert (five["executions"], five["successes"], five["failures"], five["duration_ms"]) == (2, 1, 1, 3120)
    assert p95_of(five["histogram"]) == bucket_upper_ms(bucket_of(3000))
    assert sum(r["executions"] for r in rows) == 6 and sum(r["failures"] for r in rows) == 2

    for since in (now - timedelta(hours=24), now - timedelta(hours=7, minutes=30), now - timedelta(days=7),
                  now - timedelta(minutes=30)):
        answer = statistics(runtime.reads, gateway_id, "24h", since, now)
        n, ok, avg = _scan(runtime, gateway_id, since)
        assert (answer["total_executions"], answer["successful_executions"], answer["average_execution_time_ms"]) == (
            n, ok, avg)

    env = eventsourcing_env(runtime.url, pool_size=1)
    assert verify(runtime.app, AnalyticsProjection, AnalyticsView, runtime.url, env).clean
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        pruned = prune_executions(conn, hour - timedelta(hours=5, minutes=30))  # the 30 h one and the 5:59 one
    assert pruned.executions >= 2
    five = runtime.reads.one("SELECT executions, duration_ms, histogram FROM execution_hours WHERE gateway_id = %(g)s"
                             " AND hour = %(h)s", {"g": gateway_id, "h": hour - timedelta(hours=6)})
    assert (five["executions"], five["duration_ms"]) == (1, 3000) and sum(five["histogram"]) == 1
    assert runtime.reads.one("SELECT count(*) AS n FROM execution_hours WHERE gateway_id = %(g)s AND hour = %(h)s",
                             {"g": gateway_id, "h": (hour - timedelta(hours=30, minutes=10)).replace(minute=0)})["n"] == 0
    verdict = verify(runtime.app, AnalyticsProjection, AnalyticsView, runtime.url, env)
    assert verdict.clean, verdict.differences
    answer = statistics(runtime.reads, gateway_id, "7d", now - timedelta(days=7), now)
    assert answer["total_executions"] == _scan(runtime, gateway_id, now - timedelta(days=7))[0] == 4
    assert now.tzinfo is UTC or now.utcoffset() == timedelta(0)
