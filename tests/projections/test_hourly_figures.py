"""/jobs/{id}/metrics' series on the real database: whole hours read from the hourly roll-ups and
the partial hours at the window's edges from the rows give the figures a scan of the rows gives,
for windows cut mid-hour, open on either side or inside one hour, at every granularity."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.execution import Execution
from projections.execution_queries import Window, job_metrics


class _Recording:
    """The read store, noting each statement it runs (to see which tables answered)."""

    def __init__(self, store: Any) -> None:
        self.store, self.statements = store, []

    def one(self, sql: str, params: Any = None) -> Any:
        self.statements.append(sql)
        return self.store.one(sql, params)

    def all(self, sql: str, params: Any = None) -> Any:
        self.statements.append(sql)
        return self.store.all(sql, params)


def _record(runtime: Any, gateway_id: str, job_id: str, start: datetime, ms: int, status: str) -> None:
    execution = Execution.start(gateway_id=gateway_id, job_id=job_id, execution_id=f"exec_{uuid.uuid4().hex[:10]}",
                                job_name="A", trigger="scheduled", scheduled_for=start, now=start)
    end = start + timedelta(milliseconds=ms)
    if status == "success":
        execution.succeed(now=end, duration_ms=ms, message="ok", logs=[])
    else:
        execution.fail(now=end, duration_ms=ms, code="EXECUTION_TIMEOUT" if status == "timeout" else "ACTION_FAILED",
                       error="x", logs=[])
    recordings = runtime.app.record([execution])
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings))


@pytest.fixture(scope="module")
def history(runtime: Any) -> tuple[str, str, datetime]:
    """A job's executions over six hours, two days back, several in the hours at the edges."""
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    saved = runtime.app.create_job(gateway_id, {"name": "A", "type": "interval", "schedule": {"interval_seconds": 60},
                                                "action": {"type": "publish", "topic": "t"}}, actor="tester")
    assert runtime.wait(saved.recorded)
    job_id = saved.job.job_id
    h = (runtime.clock() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    plan = [(-58, 10, "success"), (-5, 21, "failed"), (10, 100, "success"), (20, 7, "failed"), (35, 8, "success"),
            (65, 1000, "timeout"), (119, 3, "success"), (239, 5, "success"), (250, 30, "success"),
            (270, 4, "failed"), (299, 11, "success"), (301, 13, "success")]
    for minutes, ms, status in plan:
        _record(runtime, gateway_id, job_id, h + timedelta(minutes=minutes, seconds=7), ms, status)
    return gateway_id, job_id, h


def _windows(h: datetime) -> list[Window]:
    m = timedelta(minutes=1)
    return [Window(h - 55 * m, h + 272 * m), Window(h - 55 * m, None), Window(None, h + 240 * m + 30 * m),
            Window(None, None), Window(h, h + 5 * 60 * m), Window(h + 12 * m, h + 50 * m),  # inside one hour
            Window(h + 59 * m, h + 61 * m), Window(h + 300 * m, h + 302 * m)]


@pytest.mark.parametrize("granularity", ["hourly", "daily", "weekly"])
def test_series_from_roll_ups_and_edge_rows_equals_the_rows_scan(runtime: Any, history: Any, granularity: str) -> None:
    gateway_id, job_id, h = history
    for window in _windows(h):
        recording = _Recording(runtime.reads)
        from_hours = job_metrics(recording, gateway_id, job_id, granularity, window)  # type: ignore[arg-type]
        from_rows = job_metrics(runtime.reads, gateway_id, job_id, granularity, window, rollups=False)
        assert from_hours == from_rows, window
        whole_hour_inside = window.start is None or window.end is None or (window.end - window.start) > timedelta(hours=2)
        assert any("execution_hours" in sql for sql in recording.statements) == whole_hour_inside, window


def test_hourly_series_has_the_exact_counts_rates_and_averages_of_each_hour(runtime: Any, history: Any) -> None:
    gateway_id, job_id, h = history
    m = timedelta(minutes=1)
    series = job_metrics(runtime.reads, gateway_id, job_id, "hourly", Window(h - 55 * m, h + 265 * m))["metrics"]["series"]
    assert [(s["period_start"], s["executions"], s["success_rate"], s["average_ms"]) for s in series] == [
        (h - 60 * m, 1, 0.0, 21),  # the edge hour from :05: the run at :55, not the one at :02
        (h, 3, 66.7, 38),  # (100 + 7 + 8) / 3 = 38.3
        (h + 60 * m, 2, 50.0, 502),  # a timeout is completed, not a success: (1000 + 3) / 2 = 501.5, half to even
        (h + 180 * m, 1, 100.0, 5),
        (h + 240 * m, 1, 100.0, 30),  # the edge hour: :10 only, :30 starts after the window's end (:25)
    ]
