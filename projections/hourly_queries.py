"""Execution figures read from the hourly roll-ups (execution_hours, projections/analytics.py) for
the whole hours of a window and from the execution rows for the partial hours at its edges: the
same answer as a scan of the rows, at the cost of one row per hour. Used by /statistics and by
the series of /jobs/{id}/metrics (docs/projections.md, decisions 71 and 95)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.execution import COMPLETED
from projections.read_store import ReadStore

_COMPLETED = {"completed": list(COMPLETED)}
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Hours:
    """[first, last): the whole hours of a window (either side open); `none` when it has none."""

    first: datetime | None
    last: datetime | None

    @property
    def none(self) -> bool:
        return self.first is not None and self.last is not None and self.last <= self.first


def whole_hours(start: datetime | None, end: datetime | None) -> Hours:
    first = None if start is None else start.replace(minute=0, second=0, microsecond=0)
    if first is not None and first != start:
        first += _HOUR
    last = None if end is None else end.replace(minute=0, second=0, microsecond=0)
    return Hours(first, last)


# The edges as two index ranges, not one range filtered by an OR (which reads every row of the window).
_EDGE = (
    "SELECT count(*) AS finished, count(*) FILTER (WHERE status = 'success') AS ok,"
    " coalesce(sum(duration_ms), 0) AS ms FROM executions WHERE gateway_id = %(gateway_id)s"
    " AND status = ANY(%(completed)s::text[]) AND "
)
_SCANNED = (
    "SELECT sum(finished) AS finished, sum(ok) AS ok, sum(ms) AS ms FROM ("
    f"{_EDGE} start_time >= %(since)s AND start_time < %(from)s"
    f" UNION ALL {_EDGE} start_time >= greatest(%(since)s, %(to)s)) edges"
)
_ROLLED_UP = (
    "SELECT coalesce(sum(executions), 0) AS finished, coalesce(sum(successes), 0) AS ok,"
    " coalesce(sum(duration_ms), 0) AS ms FROM execution_hours"
    " WHERE gateway_id = %(gateway_id)s AND hour >= %(from)s AND hour < %(to)s"
)


def completed_since(
    store: ReadStore, gateway_id: str, since: datetime, now: datetime, *, rollups: bool = True,
) -> dict[str, int]:
    """Completed executions of the gateway that started in [since, now] (`rollups=False`: from the
    rows alone, the same answer)."""
    hours = whole_hours(since, now)
    first, last = (since, since) if hours.none or not rollups else (hours.first, hours.last)
    params = {**_COMPLETED, "gateway_id": gateway_id, "since": since, "from": first, "to": last}
    scanned = store.one(_SCANNED, params) or {}
    rolled = store.one(_ROLLED_UP, params) or {} if last > first else {}  # type: ignore[operator]
    return {key: int(scanned.get(key) or 0) + int(rolled.get(key) or 0) for key in ("finished", "ok", "ms")}


# A job's completed executions by period (`unit`: hour, day or week; the read pool's TimeZone is
# UTC, so a day or week is a whole number of hours and a roll-up hour lies in one period).
_ROWS_BY_PERIOD = (
    "SELECT date_trunc(%(unit)s, start_time) AS period_start, count(*) AS executions,"
    " count(*) FILTER (WHERE status = 'success') AS ok, coalesce(sum(duration_ms), 0) AS ms"
    " FROM executions WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
    " AND status = ANY(%(completed)s::text[]) AND start_time >= %(lo)s AND start_time < %(hi)s"
    " GROUP BY 1 ORDER BY 1 DESC LIMIT %(buckets)s"
)
_HOURS_BY_PERIOD = (
    "SELECT date_trunc(%(unit)s, hour) AS period_start, sum(executions) AS executions, sum(successes) AS ok,"
    " sum(duration_ms) AS ms FROM execution_hours WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
    " AND hour >= %(lo)s AND hour < %(hi)s GROUP BY 1 HAVING sum(executions) > 0 ORDER BY 1 DESC LIMIT %(buckets)s"
)
_EARLIEST = datetime.fromisoformat("0001-01-02T00:00:00+00:00")
_LATEST = datetime.fromisoformat("9999-12-30T00:00:00+00:00")


def _periods(store: ReadStore, sql: str, params: dict[str, Any], lo: datetime | None, hi: datetime | None,
             into: dict[datetime, list[int]]) -> None:
    if lo is not None and hi is not None and hi <= lo:
        return
    for row in store.all(sql, {**params, "lo": lo or _EARLIEST, "hi": hi or _LATEST}):
        figures = into.setdefault(row["period_start"], [0, 0, 0])
        for i, key in enumerate(("executions", "ok", "ms")):
            figures[i] += int(row[key])


def job_periods(
    store: ReadStore, gateway_id: str, job_id: str, unit: str, start: datetime | None, end: datetime | None,
    buckets: int, *, rollups: bool = True,
) -> list[tuple[datetime, int, int, Decimal]]:
    """(period start, completed executions, successes, average duration ms) of the newest `buckets`
    periods with any execution in [start, end), oldest first. Whole hours come from the roll-ups
    unless `rollups` is false (the rows alone: the answer is the same)."""
    params = {**_COMPLETED, "gateway_id": gateway_id, "job_id": job_id, "unit": unit, "buckets": buckets}
    hours = whole_hours(start, end)
    found: dict[datetime, list[int]] = {}
    if not rollups or hours.none:
        _periods(store, _ROWS_BY_PERIOD, params, start, end, found)
    else:
        if start is not None:
            _periods(store, _ROWS_BY_PERIOD, params, start, hours.first, found)
        _periods(store, _HOURS_BY_PERIOD, params, hours.first, hours.last, found)
        if end is not None:
            _periods(store, _ROWS_BY_PERIOD, params, hours.last, end, found)
    newest = sorted(found.items(), reverse=True)[:buckets]
    return [(period, n, ok, Decimal(ms) / Decimal(n)) for period, (n, ok, ms) in reversed(newest)]
