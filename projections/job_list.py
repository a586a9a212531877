"""The job list read model: one row per live job with its configuration and statistics."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic
from psycopg.types.json import Jsonb

from domain.execution import Execution, failure_status
from domain.job import Job
from domain.schedules import parse_schedule
from projections.view import TrackedView


class JobListView(TrackedView):
    tracking_table = "job_list_tracking"
    tables = ("jobs", "execution_jobs")

    def schedule_row(self, gateway_id: str, job_id: str) -> dict[str, Any] | None:
        """What the next instant after a fire is computed from: the row as the log has built it
        so far (this projection applies events in log order, so a replay reads the same)."""
        self.flush_if_batching()  # what the thread keeps for one transaction is part of "so far"
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT type, schedule, schedule_anchor, enabled FROM jobs"
                " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s",
                {"gateway_id": gateway_id, "job_id": job_id},
            )
            return curs.fetchone()


def next_after_fire(row: dict[str, Any] | None, scheduled_for: datetime) -> datetime | None:
    """The instant the dispatcher fires after `scheduled_for`: the job's schedule, strictly after it."""
    if row is None or not row["enabled"]:
        return None
    schedule = parse_schedule(row["type"], row["schedule"], anchor=row["schedule_anchor"], stored=True)
    return schedule.next_after(scheduled_for)


def actor_of(event: Any) -> str:
    """An event recorded before it carried its cause reads as actor `unknown`, never fails."""
    return getattr(event, "actor", None) or "unknown"


def _key(event: Any) -> dict[str, Any]:
    return {"id": event.originator_id, "version": event.originator_version, "at": event.timestamp}


_WHERE = " WHERE aggregate_id = %(id)s"


def _configuration(event: Any) -> dict[str, Any]:
    """The row values of a job's whole configuration, as Created and Updated both carry it."""
    return {
        **_key(event), "name": event.name, "description": event.description, "type": event.schedule_type,
        "enabled": event.enabled, "schedule": Jsonb(event.schedule), "anchor": event.schedule_anchor,
        "action": Jsonb(event.action), "options": Jsonb(event.options), "tags": list(event.tags),
        "next": event.next_execution, "actor": actor_of(event),
    }
_OF_JOB = " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
# Outcomes recorded before they named their job: execution_jobs, written on Started, names it.
_OF_EXECUTION = (
    " FROM execution_jobs e WHERE e.aggregate_id = %(id)s AND jobs.gateway_id = e.gateway_id"
    " AND jobs.job_id = e.job_id"
)
_FORGET = "DELETE FROM execution_jobs WHERE aggregate_id = %(id)s"
SCHEDULED = ("scheduled", "misfire")  # triggers whose scheduled_for is an instant of the schedule


class JobListProjection(Projection[JobListView]):
    name = "job_list"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Job.Created, Job.Updated, Job.Reverted, Job.Toggled, Job.Reset, Job.Deleted,
            Execution.Started, Execution.Missed, Execution.Succeeded, Execution.Failed,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        self.view.record(tracking)

    @process_event.register
    def _created(self, event: Job.Created, tracking: Tracking) -> None:
        sql = (
            "INSERT INTO jobs (aggregate_id, gateway_id, job_id, name, description, type, enabled, schedule,"
            " schedule_anchor, action, options, tags, next_execution, created_at, updated_at, created_by,"
            " updated_by, version) VALUES (%(id)s, %(gateway_id)s, %(job_id)s, %(name)s, %(description)s,"
            " %(type)s, %(enabled)s, %(schedule)s, %(anchor)s, %(action)s, %(options)s, %(tags)s, %(next)s,"
            " %(at)s, %(at)s, %(actor)s, %(actor)s, %(version)s)"
        )
        params = {**_configuration(event), "gateway_id": event.gateway_id, "job_id": event.job_id}
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _updated(self, event: Job.Updated, tracking: Tracking) -> None:
        sql = (
            "UPDATE jobs SET name = %(name)s, description = %(description)s, type = %(type)s,"
            " enabled = %(enabled)s, schedule = %(schedule)s, schedule_anchor = %(anchor)s, action = %(action)s,"
            " options = %(options)s, tags = %(tags)s, next_execution = %(next)s, updated_at = %(at)s,"
            " updated_by = %(actor)s, version = %(version)s" + _WHERE
        )
        params = _configuration(event)
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _reverted(self, event: Job.Reverted, tracking: Tracking) -> None:
        """An Updated that also sets the disabled reason (it may enable or disable the job)."""
        sql = (
            "UPDATE jobs SET name = %(name)s, description = %(description)s, type = %(type)s,"
            " enabled = %(enabled)s, schedule = %(schedule)s, schedule_anchor = %(anchor)s, action = %(action)s,"
            " options = %(options)s, tags = %(tags)s, next_execution = %(next)s, updated_at = %(at)s,"
            " updated_by = %(actor)s, version = %(version)s, disabled_reason = %(reason)s" + _WHERE
        )
        params = {**_configuration(event), "reason": "" if event.enabled else event.disabled_reason}
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _toggled(self, event: Job.Toggled, tracking: Tracking) -> None:
        sql = (
            "UPDATE jobs SET enabled = %(enabled)s, disabled_reason = %(reason)s, next_execution = %(next)s,"
            " updated_at = %(at)s, updated_by = %(actor)s, version = %(version)s" + _WHERE
        )
        params = {
            **_key(event), "enabled": event.enabled,
            "reason": "" if event.enabled else event.reason, "next": event.next_execution, "actor": actor_of(event),
        }
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _reset(self, event: Job.Reset, tracking: Tracking) -> None:
        """Default configuration, error status cleared; without keep_data the statistics restart
        (docs/decisions.md 51)."""
        restart = (
            "" if event.keep_data else
            ", total_executions = 0, successful_executions = 0, failed_executions = 0, total_duration_ms = 0,"
            " finished_executions = 0, last_execution = NULL"
        )
        sql = (
            "UPDATE jobs SET enabled = true, disabled_reason = '', options = %(options)s, last_status = NULL,"
            " next_execution = %(next)s, updated_at = %(at)s, updated_by = %(actor)s, version = %(version)s"
            + restart + _WHERE
        )
        params = {**_key(event), "options": Jsonb(event.options), "next": event.next_execution, "actor": event.actor}
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _deleted(self, event: Job.Deleted, tracking: Tracking) -> None:
        self.view.record(tracking, [("DELETE FROM jobs" + _WHERE, _key(event))])

    @process_event.register
    def _execution_started(self, event: Execution.Started, tracking: Tracking) -> None:
        params = {"id": event.originator_id, "gateway_id": event.gateway_id, "job_id": event.job_id,
                  "at": event.timestamp}
        # For an outcome recorded before outcomes named their job: which Started precedes one
        # cannot be told here, so each writes it, and the outcome (either kind) forgets it.
        remember = (
            "INSERT INTO execution_jobs (aggregate_id, gateway_id, job_id)"
            " VALUES (%(id)s, %(gateway_id)s, %(job_id)s)"
        )
        touch = (
            "UPDATE jobs SET last_execution = greatest(last_execution, %(at)s)"
            " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
        )
        statements = [(remember, params), (touch, params)]
        if event.trigger in SCHEDULED and event.scheduled_for is not None:
            statements.append(self._advance(event))
        self.view.record(tracking, statements)

    @process_event.register
    def _execution_missed(self, event: Execution.Missed, tracking: Tracking) -> None:
        self.view.record(tracking, [self._advance(event)])

    def _advance(self, event: Any) -> tuple[str, dict[str, Any]]:
        """A scheduled instant was fired (or missed): the job's next one is the first after it.
        Only forward: a late event about an older instant, or one before the job's configuration
        changed (which set next_execution from its own instant), leaves a later value alone."""
        row = self.view.schedule_row(event.gateway_id, event.job_id)
        params = {"gateway_id": event.gateway_id, "job_id": event.job_id, "fired": event.scheduled_for,
                  "next": next_after_fire(row, event.scheduled_for)}
        sql = (
            "UPDATE jobs SET next_execution = %(next)s WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
            " AND enabled AND (next_execution IS NULL OR next_execution <= %(fired)s)"
        )
        return sql, params

    def _finish(self, event: Any, tracking: Tracking, status: str) -> None:
        params = {"id": event.originator_id, "gateway_id": event.gateway_id, "job_id": event.job_id,
                  "duration_ms": event.duration_ms, "status": status, "ok": int(status == "success")}
        count = (
            "UPDATE jobs SET total_executions = total_executions + 1,"
            " successful_executions = successful_executions + %(ok)s,"
            " failed_executions = failed_executions + 1 - %(ok)s,"
            " total_duration_ms = total_duration_ms + %(duration_ms)s,"
            " finished_executions = finished_executions + 1, last_status = %(status)s"
            + (_OF_JOB if event.job_id else _OF_EXECUTION)
        )
        self.view.record(tracking, [(count, params), (_FORGET, params)])

    @process_event.register
    def _execution_succeeded(self, event: Execution.Succeeded, tracking: Tracking) -> None:
        self._finish(event, tracking, "success")

    @process_event.register
    def _execution_failed(self, event: Execution.Failed, tracking: Tracking) -> None:
        if event.will_retry:
            self.view.record(tracking)  # the execution goes on: nothing to count yet
            return
        self._finish(event, tracking, failure_status(event.code))
