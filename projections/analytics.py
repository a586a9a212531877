"""The analytics projection (the documented example of adding one: docs/projections.md): hourly
roll-ups of each job's completed executions (count, successes, failures, total duration and a
duration histogram for the p95), keyed by the hour the execution started, as the execution history
counts them; and each run's start and end with the peak concurrency of each hour
(projections/concurrency.py). Retention takes out of the roll-ups exactly what the executions it
prunes added (projections/retention.py), so the tables always equal a replay of the log."""

from __future__ import annotations

import math
from functools import singledispatchmethod
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.execution import Execution
from domain.job import Job
from projections import concurrency
from projections.view import TrackedView

BUCKETS = 64  # bucket i holds durations d with floor(2 * log2(d + 1)) == i (the last one: all longer)


def bucket_of(duration_ms: int) -> int:
    """1-based (PostgreSQL arrays): bucket i+1 covers [2^(i/2) - 1, 2^((i+1)/2) - 1) ms."""
    return min(BUCKETS - 1, int(2 * math.log2(max(0, duration_ms) + 1))) + 1


def bucket_upper_ms(index: int) -> int:
    """The largest duration bucket `index` (1-based) can hold: what the p95 reads as (the last
    bucket holds all longer ones; its bound is where it starts)."""
    if index >= BUCKETS:
        return math.ceil(2 ** ((BUCKETS - 1) / 2)) - 1
    return max(0, math.ceil(2 ** (index / 2)) - 2)


def p95_of(histogram: list[int]) -> int:
    total = sum(histogram)
    if not total:
        return 0
    rank, seen = math.ceil(0.95 * total), 0
    for index, count in enumerate(histogram, start=1):
        seen += count
        if seen >= rank:
            return bucket_upper_ms(index)
    return bucket_upper_ms(len(histogram))


class AnalyticsView(TrackedView):
    tracking_table = "analytics_tracking"
    tables = ("execution_hours", "analytics_starts", "analytics_runs", "analytics_peak_hours",
              "analytics_pending_edges")
    closing = (*concurrency.APPLY, *concurrency.RECOMPUTE)


_EMPTY = "array_fill(0, ARRAY[%d])" % BUCKETS
_COUNT = (
    "INSERT INTO execution_hours AS h (gateway_id, job_id, hour, executions, successes, failures, duration_ms,"
    f" histogram) SELECT s.gateway_id, s.job_id, date_trunc('hour', s.start_time, 'UTC'), 1, %(ok)s, 1 - %(ok)s,"
    f" %(ms)s, {_EMPTY} FROM analytics_starts s WHERE s.aggregate_id = %(id)s"
    " ON CONFLICT (gateway_id, job_id, hour) DO UPDATE SET executions = h.executions + 1,"
    " successes = h.successes + %(ok)s, failures = h.failures + 1 - %(ok)s, duration_ms = h.duration_ms + %(ms)s"
)
_BUCKET = (
    "UPDATE execution_hours h SET histogram[%(bucket)s] = h.histogram[%(bucket)s] + 1 FROM analytics_starts s"
    " WHERE s.aggregate_id = %(id)s AND h.gateway_id = s.gateway_id AND h.job_id = s.job_id"
    " AND h.hour = date_trunc('hour', s.start_time, 'UTC')"
)
_FORGET = "DELETE FROM analytics_starts WHERE aggregate_id = %(id)s"


class AnalyticsProjection(Projection[AnalyticsView]):
    name = "analytics"
    topics = tuple(get_topic(cls) for cls in (Execution.Started, Execution.Succeeded, Execution.Failed, Job.Reset))

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        self.view.record(tracking)

    @process_event.register
    def _started(self, event: Execution.Started, tracking: Tracking) -> None:
        sql = (
            "INSERT INTO analytics_starts (aggregate_id, gateway_id, job_id, start_time)"
            " VALUES (%(id)s, %(gateway_id)s, %(job_id)s, %(at)s)"
        )
        params = {"id": event.originator_id, "gateway_id": event.gateway_id, "job_id": event.job_id,
                  "at": event.timestamp}
        self.view.record(tracking, [(sql, params), *concurrency.started(params)])

    def _completed(self, event: Any, tracking: Tracking, ok: bool) -> None:
        params = {"id": event.originator_id, "ok": int(ok), "ms": event.duration_ms,
                  "bucket": bucket_of(event.duration_ms), "at": event.timestamp}
        self.view.record(tracking, [(_COUNT, params), (_BUCKET, params), (_FORGET, params),
                                    *concurrency.ended(params)])

    @process_event.register
    def _reset(self, event: Job.Reset, tracking: Tracking) -> None:
        """Without keep_data the execution history deletes the job's finished executions: their
        runs go from the peaks too (the roll-ups keep their counts, as before)."""
        if event.keep_data:
            self.view.record(tracking)
            return
        self.view.record(tracking, concurrency.reset({"gateway_id": event.gateway_id, "job_id": event.job_id}))

    @process_event.register
    def _succeeded(self, event: Execution.Succeeded, tracking: Tracking) -> None:
        self._completed(event, tracking, True)

    @process_event.register
    def _failed(self, event: Execution.Failed, tracking: Tracking) -> None:
        if event.will_retry:
            self.view.record(tracking)
            return
        self._completed(event, tracking, False)
