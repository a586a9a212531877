"""The execution history read model: one row per execution with its outcome, and its log lines."""

from __future__ import annotations

import json
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic
from psycopg.types.json import Jsonb

from domain.execution import FINAL, Execution, failure_status
from domain.job import Job
from projections.execution_counts import counted_delete, counted_insert, counted_update, write_counting
from projections.view import Statement, TrackedView

LINES_PER_EVENT = 1000  # executors keep at most 200 lines per execution


class ExecutionHistoryView(TrackedView):
    tracking_table = "execution_history_tracking"
    tables = ("executions", "execution_logs", "execution_counts")

    def write(self, curs: Any, events: Any) -> None:
        write_counting(curs, events)  # the counts per job and status change with the rows


def _clean(value: Any) -> Any:
    """PostgreSQL refuses NUL in text and jsonb: an executor's output must not stall the view."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _json(value: dict[str, Any]) -> Jsonb:
    return Jsonb(_clean(value), dumps=lambda obj: json.dumps(obj, default=str))


def _instant(raw: Any, fallback: datetime) -> datetime:
    """A log line's own time when it carries a valid one, else its event's (never the clock)."""
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        return fallback
    return value if value.tzinfo is not None else fallback


_LINES = (
    "INSERT INTO execution_logs (id, gateway_id, job_id, execution_id, timestamp, level, message)"
    " SELECT %(base)s + u.n, {names}, u.at, u.level, u.message"
    " FROM {source}unnest(%(at)s::timestamptz[], %(level)s::text[], %(message)s::text[])"
    "  WITH ORDINALITY AS u(at, level, message, n){where} ORDER BY u.n"
)
_LINES_NAMED = _LINES.format(
    names="%(gateway_id)s::text, %(job_id)s::text, %(execution_id)s::text", source="", where=""
)
# An outcome recorded before outcomes named their execution: its row names it.
_LINES_OF_ROW = _LINES.format(
    names="e.gateway_id, e.job_id, e.execution_id", source="executions e, ", where=" WHERE e.aggregate_id = %(id)s"
)


def _log_lines(event: Any, tracking: Tracking) -> Statement:
    """All of an outcome's log lines in one statement, in their order. Line ids derive from the
    event's position, so a replay of a pruned log gives the same ids."""
    lines = [line for line in event.logs if isinstance(line, dict)][: LINES_PER_EVENT - 1]
    sql = _LINES_NAMED if event.execution_id else _LINES_OF_ROW
    params = {
        "id": event.originator_id, "gateway_id": event.gateway_id, "job_id": event.job_id,
        "execution_id": event.execution_id,
        "base": tracking.notification_id * LINES_PER_EVENT,
        "at": [_instant(line.get("timestamp"), event.timestamp) for line in lines],
        "level": [_clean(str(line.get("level") or "info")).lower() for line in lines],
        "message": [_clean(str(line.get("message", ""))) for line in lines],
    }
    return sql, params


_INSERT = counted_insert(
    "INSERT INTO executions (gateway_id, execution_id, aggregate_id, job_id, job_name, trigger, status,"
    " scheduled_for, start_time, end_time, duration_ms, message, parameters) VALUES (%(gateway_id)s,"
    " %(execution_id)s, %(id)s, %(job_id)s, %(job_name)s, %(trigger)s, %(status)s, %(scheduled_for)s, %(at)s,"
    " %(end_time)s, %(duration_ms)s, %(message)s, %(parameters)s)"
)


def _identity(event: Any) -> dict[str, Any]:
    return {
        "id": event.originator_id, "gateway_id": event.gateway_id, "execution_id": event.execution_id,
        "job_id": event.job_id, "job_name": _clean(event.job_name), "scheduled_for": event.scheduled_for,
        "at": event.timestamp,
    }


class ExecutionHistoryProjection(Projection[ExecutionHistoryView]):
    name = "execution_history"
    topics = tuple(
        get_topic(cls)
        for cls in (Execution.Started, Execution.Missed, Execution.Retrying, Execution.Succeeded, Execution.Failed,
                    Job.Reset)
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        self.view.record(tracking)

    @process_event.register
    def _started(self, event: Execution.Started, tracking: Tracking) -> None:
        params = {
            **_identity(event), "trigger": event.trigger, "status": "running", "end_time": None,
            "duration_ms": None, "message": "", "parameters": _json(event.parameters),
        }
        self.view.record(tracking, [(_INSERT, params)])

    @process_event.register
    def _missed(self, event: Execution.Missed, tracking: Tracking) -> None:
        # A missed run is one the schedule called for: its trigger is the schedule's.
        params = {
            **_identity(event), "trigger": "scheduled", "status": "missed", "end_time": event.timestamp,
            "duration_ms": 0, "message": _clean(event.reason), "parameters": _json({}),
        }
        self.view.record(tracking, [(_INSERT, params)])

    @process_event.register
    def _reset(self, event: Job.Reset, tracking: Tracking) -> None:
        """A reset without keep_data forgets the job's finished executions and their log lines
        (docs/decisions.md 51); runs still going stay, and the log keeps every event."""
        if event.keep_data:
            self.view.record(tracking)
            return
        params = {"gateway_id": event.gateway_id, "job_id": event.job_id, "final": list(FINAL)}
        logs = (
            "DELETE FROM execution_logs l USING executions e WHERE e.gateway_id = %(gateway_id)s"
            " AND e.job_id = %(job_id)s AND e.status = ANY(%(final)s) AND l.gateway_id = e.gateway_id"
            " AND l.execution_id = e.execution_id"
        )
        runs = counted_delete("gateway_id = %(gateway_id)s AND job_id = %(job_id)s AND status = ANY(%(final)s)")
        self.view.record(tracking, [(logs, params), (runs, params)])

    @process_event.register
    def _retrying(self, event: Execution.Retrying, tracking: Tracking) -> None:
        sql = counted_update("status = 'running', attempt = %(attempt)s")
        self.view.record(tracking, [(sql, {"attempt": event.attempt, "id": event.originator_id})])

    @process_event.register
    def _succeeded(self, event: Execution.Succeeded, tracking: Tracking) -> None:
        sql = counted_update(
            "status = 'success', end_time = %(at)s, duration_ms = %(duration_ms)s, code = '', message = %(message)s,"
            " details = %(details)s"
        )
        params = {
            "id": event.originator_id, "at": event.timestamp, "duration_ms": event.duration_ms,
            "message": _clean(event.message), "details": _json(event.details),
        }
        self.view.record(tracking, [(sql, params), _log_lines(event, tracking)])

    @process_event.register
    def _failed(self, event: Execution.Failed, tracking: Tracking) -> None:
        status = "retrying" if event.will_retry else failure_status(event.code)
        sql = counted_update(
            "status = %(status)s, end_time = %(end_time)s, duration_ms = %(duration_ms)s, code = %(code)s,"
            " message = %(message)s, retry_count = %(retry_count)s, details = %(details)s"
        )
        params = {
            "id": event.originator_id, "status": status, "end_time": None if event.will_retry else event.timestamp,
            "duration_ms": event.duration_ms, "code": _clean(event.code), "message": _clean(event.error),
            "retry_count": event.retry_count, "details": _json(event.details),
        }
        self.view.record(tracking, [(sql, params), _log_lines(event, tracking)])
