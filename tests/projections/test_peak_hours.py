"""The peak concurrency kept per hour by the analytics projection (projections/concurrency.py)
answers what the query it replaced answered from the execution rows, over runs that span hours,
still run, wait between attempts, end at their start, tie at an instant or arrive out of time
order; and so after retention and a reset, which a replay (`projections verify`) finds equal."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from domain.execution import Execution
from interfaces.database import conninfo, eventsourcing_env
from interfaces.maintenance import prune_executions
from projections import concurrency
from projections.analytics import AnalyticsProjection, AnalyticsView
from projections.concurrency import peak_concurrency
from projections.verify import verify
from tests.application.dispatch_support import wait_until
from tests.conftest import Api, job_body

# The query /statistics ran before (projections/execution_queries.py until decision 300): the
# running sum of every start and end of the window's executions, read from their rows.
_SPAN = (
    "  SELECT greatest(start_time, %(since)s) AS s, least(coalesce(end_time, %(now)s), %(now)s) AS e"
    "  FROM executions WHERE gateway_id = %(gateway_id)s AND status <> 'missed' AND "
)
_OLD_PEAK = (
    "WITH spans AS ("
    f"{_SPAN} start_time >= %(since)s AND start_time < %(now)s AND coalesce(end_time, %(now)s) > %(since)s"
    f"  UNION ALL {_SPAN} start_time < %(since)s AND end_time > %(since)s"
    f"  UNION ALL {_SPAN} start_time < %(since)s AND end_time IS NULL"
    "), edges AS (SELECT s AS at, 1 AS delta FROM spans WHERE e > s"
    "  UNION ALL SELECT e, -1 FROM spans WHERE e > s)"
    " SELECT coalesce(max(level), 0) AS peak FROM ("
    "  SELECT sum(delta) OVER (ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS level FROM edges) t"
)


def _old_peak(runtime: Any, gateway_id: str, since: datetime, now: datetime) -> int:
    return int(runtime.reads.one(_OLD_PEAK, {"gateway_id": gateway_id, "since": since, "now": now})["peak"])


def _run(gateway_id: str, job_id: str, start: datetime, end: datetime | None, *, retrying: bool = False) -> Execution:
    execution = Execution.start(gateway_id=gateway_id, job_id=job_id, execution_id=f"exec_{uuid.uuid4().hex[:12]}",
                                job_name="A", trigger="scheduled", scheduled_for=start, now=start, max_attempts=2)
    if retrying:
        assert execution.fail(now=start + timedelta(seconds=1), duration_ms=1, code="ACTION_FAILED", error="x", logs=[])
    elif end is not None:
        execution.succeed(now=end, duration_ms=max(0, int((end - start).total_seconds() * 1000)), message="ok",
                          logs=[])
    return execution


def _record(runtime: Any, executions: list[Execution]) -> None:
    recordings = runtime.app.record(executions)
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings), timeout=30)


def _windows(now: datetime) -> list[tuple[datetime, datetime]]:
    hour = now.replace(minute=0, second=0, microsecond=0)
    sinces = [now - timedelta(hours=24), now - timedelta(days=7), hour - timedelta(hours=3),
              hour - timedelta(hours=2), hour - timedelta(hours=1, minutes=30), hour - timedelta(minutes=1),
              hour - timedelta(hours=2, seconds=-1), now - timedelta(seconds=1), hour]
    ends = [now, hour, hour - timedelta(hours=1), hour - timedelta(hours=1, minutes=55),
            hour - timedelta(hours=2) + timedelta(minutes=59, seconds=59, microseconds=700_000),
            now + timedelta(hours=2)]
    return [(s, e) for s in sinces for e in ends]


def _assert_same(runtime: Any, gateway_id: str, now: datetime) -> set[int]:
    seen = set()
    for since, end in _windows(now):
        old = _old_peak(runtime, gateway_id, since, end)
        assert peak_concurrency(runtime.reads, gateway_id, since, end) == old, (since, end)
        seen.add(old)
    return seen


def _clean(runtime: Any) -> None:
    env = eventsourcing_env(runtime.url, pool_size=1)
    verdict = verify(runtime.app, AnalyticsProjection, AnalyticsView, runtime.url, env)
    assert verdict.clean, verdict.differences


def test_peaks_from_the_hours_equal_the_rows_query_through_retention_and_reset(
    runtime: Any, http: Any, gateway_id: str
) -> None:
    api = Api(http, gateway_id, role="admin")
    job = api.post("/jobs", job_body(name="peaks")).json()["data"]["job_id"]
    now = runtime.clock()
    hour = now.replace(minute=0, second=0, microsecond=0)
    h3, h2, h1 = (hour - timedelta(hours=n) for n in (3, 2, 1))
    tie = h2 + timedelta(minutes=20)
    other = f"{gateway_id}-other"
    _record(runtime, [
        _run(gateway_id, job, h3 + timedelta(minutes=50), h1 + timedelta(minutes=10)),  # spans two boundaries
        _run(gateway_id, job, h2 - timedelta(seconds=1), h2 + timedelta(seconds=1)),  # across one
        _run(gateway_id, job, h2, h1),  # from one boundary to the next
        _run(gateway_id, job, h2 + timedelta(minutes=5), h2 + timedelta(minutes=5)),  # ends at its start
        _run(gateway_id, job, tie, tie + timedelta(minutes=1)),  # two at one instant,
        _run(gateway_id, job, tie, tie + timedelta(minutes=3)),
        _run(gateway_id, job, tie + timedelta(minutes=1), tie + timedelta(minutes=2)),  # one as another ends
        _run(gateway_id, job, hour - timedelta(days=2), None),  # still running
        _run(gateway_id, job, h1 + timedelta(minutes=30), None, retrying=True),  # between attempts
        _run(gateway_id, job, now - timedelta(minutes=1) if now - hour > timedelta(minutes=1) else hour, None),
        _run(other, job, h2 + timedelta(minutes=1), h1),  # another gateway's
    ])
    _record(runtime, [Execution.missed(gateway_id=gateway_id, job_id=job, execution_id=f"m_{uuid.uuid4().hex[:8]}",
                                       job_name="A", scheduled_for=h2, reason="x", now=h2 + timedelta(minutes=21))])
    # Out of time order: runs recorded after later ones, into hours already kept.
    _record(runtime, [_run(gateway_id, job, tie - timedelta(minutes=10), tie + timedelta(seconds=30)),
                      _run(gateway_id, job, h3 + timedelta(minutes=55), h2 + timedelta(minutes=20))])
    _record(runtime, [_run(gateway_id, job, h2 + timedelta(minutes=20, seconds=30), h2 + timedelta(minutes=50))])
    seen = _assert_same(runtime, gateway_id, now)
    assert max(seen) >= 5 and len(seen) >= 4  # the windows see different peaks
    _clean(runtime)

    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        assert prune_executions(conn, h2 + timedelta(minutes=20, seconds=45), batch=2).executions == 2
        assert prune_executions(conn, h2 + timedelta(minutes=20, seconds=45)).executions >= 1
    _assert_same(runtime, gateway_id, now)
    _clean(runtime)

    assert api.post("/jobs/reset/all", {"keep_data": False}).status_code == 200
    _settle(runtime, gateway_id)
    assert _old_peak(runtime, gateway_id, now - timedelta(days=7), now) == 3  # the runs still going
    _assert_same(runtime, gateway_id, now)
    _clean(runtime)


def _settle(runtime: Any, gateway_id: str) -> None:
    """Wait until both views have applied the reset (no finished run of the gateway left in either)."""
    query = ("SELECT (SELECT count(*) FROM executions WHERE gateway_id = %(g)s AND end_time IS NOT NULL"
             "  AND status <> 'missed') + (SELECT count(*) FROM analytics_runs WHERE gateway_id = %(g)s"
             "  AND end_time IS NOT NULL) AS n")
    assert wait_until(lambda: not runtime.reads.one(query, {"g": gateway_id})["n"], timeout=30), \
        "the reset did not reach the read models"


@pytest.mark.parametrize("known", [False, True])
def test_an_outcome_of_no_running_run_changes_no_hour(runtime: Any, gateway_id: str, known: bool) -> None:
    started = runtime.clock() - timedelta(hours=1)
    run = _run(gateway_id, "job-x", started, started + timedelta(minutes=5))
    _record(runtime, [run])
    before = runtime.reads.all("SELECT * FROM analytics_peak_hours WHERE gateway_id = %(g)s ORDER BY hour",
                               {"g": gateway_id})
    assert before and before[-1]["peak"] is None  # the latest hour's peak is not kept
    target = run.id if known else uuid.uuid4()  # a second outcome of an ended run; one of no run
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn, conn.transaction():
        for sql, params in concurrency.ended({"id": target, "at": started + timedelta(minutes=9)}):
            conn.execute(sql, params)
    after = runtime.reads.all("SELECT * FROM analytics_peak_hours WHERE gateway_id = %(g)s ORDER BY hour",
                              {"g": gateway_id})
    assert after == before


def test_runs_recorded_in_time_order_keep_the_peaks_in_place(runtime: Any, gateway_id: str) -> None:
    """Events in time order (each edge after its hour's latest: the rows updated in place, never
    recomputed), runs of 0 to 40 minutes over three hours, some still going."""
    rng = random.Random(300)
    now = runtime.clock()
    origin = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    edges: list[tuple[datetime, int, int]] = []  # (at, run, 0 its start | 1 its end)
    spans = []
    for n in range(40):
        start = origin + timedelta(seconds=rng.randrange(3 * 3600))
        length = timedelta(seconds=rng.choice([0, 1, 60, 300, 900, 2400, rng.randrange(2400)]))
        spans.append((start, None if n % 9 == 0 or start + length >= now else start + length))
    for n, (start, end) in enumerate(spans):
        edges.append((start, n, 0))
        if end is not None:
            edges.append((end, n, 1))
    runs: dict[int, Execution] = {}
    for at, n, kind in sorted(edges):
        if not kind:
            runs[n] = Execution.start(gateway_id=gateway_id, job_id="job-t",
                                      execution_id=f"exec_t{n}_{uuid.uuid4().hex[:6]}",
                                      job_name="T", trigger="scheduled", scheduled_for=at, now=at)
        else:
            runs[n].succeed(now=at, duration_ms=int((at - spans[n][0]).total_seconds() * 1000), message="", logs=[])
        _record(runtime, [runs[n]])
    for since, end in [*_windows(now), (origin, now), (origin + timedelta(minutes=90), now)]:
        assert peak_concurrency(runtime.reads, gateway_id, since, end) == _old_peak(runtime, gateway_id, since, end), (
            since, end)
    _clean(runtime)
    # The benches' set-up computes the same rows from the runs at once.
    kept = "SELECT * FROM analytics_peak_hours WHERE gateway_id = %(g)s ORDER BY hour"
    before = runtime.reads.all(kept, {"g": gateway_id})
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn, conn.transaction():
        conn.execute("DELETE FROM analytics_peak_hours WHERE gateway_id = %(g)s", {"g": gateway_id})
        conn.execute(concurrency.HOURS_FROM_RUNS, {"g": gateway_id})
    assert runtime.reads.all(kept, {"g": gateway_id}) == before
