"""The Job aggregate: one gateway's scheduled job, its configuration, its lifecycle and its runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import diff
from domain.errors import JobNotFound, ValidationFailed
from domain.identity import job_uuid
from domain.job_config import JobConfig
from domain.options import JobOptions
from domain.schedules import Location, Schedule


class Job(Aggregate):
    """State changes only in `apply`; public methods check rules and compute first."""

    class Created(Aggregate.Created):
        gateway_id: str
        job_id: str
        name: str
        description: str
        schedule_type: str
        schedule: dict[str, Any]
        schedule_anchor: datetime
        action: dict[str, Any]
        tags: list[str]
        options: dict[str, Any]
        enabled: bool
        actor: str
        next_execution: datetime | None
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None

    def __init__(
        self,
        gateway_id: str,
        job_id: str,
        name: str,
        description: str,
        schedule_type: str,
        schedule: dict[str, Any],
        schedule_anchor: datetime,
        action: dict[str, Any],
        tags: list[str],
        options: dict[str, Any],
        enabled: bool,
        actor: str,
        next_execution: datetime | None,
    ) -> None:
        self.gateway_id = gateway_id
        self.job_id = job_id
        self.config = JobConfig(name, description, schedule_type, schedule, schedule_anchor, action, tags, options)
        self.enabled = enabled
        self.disabled_reason = ""
        self.next_execution = next_execution
        self.deleted = False
        self.configured_at: datetime | None = None  # last Updated/Toggled; None means created_on

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            """Events that change state override this; Created is applied by __init__."""

    class Updated(Event):
        name: str
        description: str
        schedule_type: str
        schedule: dict[str, Any]
        schedule_anchor: datetime
        action: dict[str, Any]
        tags: list[str]
        options: dict[str, Any]
        enabled: bool
        actor: str
        next_execution: datetime | None
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None

        def apply(self, job: Job) -> None:
            job.config = JobConfig(
                self.name, self.description, self.schedule_type, self.schedule,
                self.schedule_anchor, self.action, self.tags, self.options,
            )
            job.enabled = self.enabled
            job.next_execution = self.next_execution
            job.configured_at = self.timestamp

    class Reverted(Updated):
        """The configuration of an earlier version restored (a revert, or an undo of an operation):
        the whole configuration after it, as Updated, and which version it came from."""

        reverted_to: int = 0
        reason: str = ""  # why (the audit's reason)
        disabled_reason: str = ""  # the restored one, when it leaves the job disabled

        def apply(self, job: Job) -> None:
            super().apply(job)
            job.disabled_reason = "" if self.enabled else self.disabled_reason

    class Toggled(Event):
        enabled: bool
        reason: str
        actor: str
        next_execution: datetime | None
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None
        tags: list[str] | None = None  # the job's tags, for the live feed (None: recorded before they were)

        def apply(self, job: Job) -> None:
            job.enabled = self.enabled
            job.disabled_reason = "" if self.enabled else self.reason
            job.next_execution = self.next_execution
            job.configured_at = self.timestamp

    class Deleted(Event):
        actor: str
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None
        tags: list[str] | None = None  # the job's tags, for the live feed (None: recorded before they were)

        def apply(self, job: Job) -> None:
            job.deleted = True
            job.enabled = False
            job.next_execution = None

    class Reset(Event):
        """Back to the default configuration (docs/decisions.md 51): enabled, options at their
        defaults, no disabled reason; schedule, action, name, description and tags stay. The read
        models restart the job's error status (and, with keep_data false, its statistics and
        execution history); the log keeps every event."""

        gateway_id: str
        job_id: str
        options: dict[str, Any]
        keep_data: bool
        actor: str
        next_execution: datetime | None
        enabled: bool = True  # always: said, for readers that follow fields (the audit)
        name: str = ""  # what stays, for readers that route without a lookup (the live feed)
        schedule_type: str = ""
        tags: list[str] | None = None
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None

        def apply(self, job: Job) -> None:
            c = job.config
            job.config = JobConfig(c.name, c.description, c.schedule_type, c.schedule, c.schedule_anchor, c.action,
                                   c.tags, self.options)
            job.enabled = True
            job.disabled_reason = ""
            job.next_execution = self.next_execution
            job.configured_at = self.timestamp

    class RunRequested(Event):
        """An operator asked for a run now; the gateway's dispatcher carries it out."""

        execution_id: str
        parameters: dict[str, Any]
        force: bool
        actor: str
        request_id: str | None = None  # the cause (docs/events.md): written by the commit point
        operation_id: str | None = None

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def create(
        cls, *, gateway_id: str, job_id: str, fields: dict[str, Any], actor: str, now: datetime,
        default_location: Location | None = None,
    ) -> Job:
        config = JobConfig.new(fields, now=now, default_location=default_location)
        enabled = _enabled_field(fields, True)
        nxt = config.build_schedule(default_location).next_after(now) if enabled else None
        return cls._create(
            cls.Created, id=job_uuid(gateway_id, job_id), timestamp=now,
            gateway_id=gateway_id, job_id=job_id, **_settings(config), enabled=enabled,
            actor=actor, next_execution=nxt,
        )

    # ---- configuration commands ---------------------------------------------------------------

    def _check_alive(self) -> None:
        if self.deleted:
            raise JobNotFound(f"Job {self.job_id} not found", {"job_id": self.job_id})

    def schedule_for(self, default_location: Location | None = None) -> Schedule:
        return self.config.build_schedule(default_location)

    @property
    def options(self) -> JobOptions:
        return self.config.job_options

    def update(
        self, patch: dict[str, Any], *, actor: str, now: datetime, default_location: Location | None = None
    ) -> None:
        self._check_alive()
        config = self.config.patched(patch, now=now, default_location=default_location)
        enabled = _enabled_field(patch, self.enabled)
        nxt = config.build_schedule(default_location).next_after(now) if enabled else None
        self.trigger_event(
            self.Updated, timestamp=now, **_settings(config), enabled=enabled,
            actor=actor, next_execution=nxt,
        )

    def reconfigure(
        self, fields: dict[str, Any], *, actor: str, now: datetime, default_location: Location | None = None
    ) -> dict[str, dict[str, Any]]:
        """Replace the whole configuration with `fields`, validated as a create's are (an import's
        `replace`); an unchanged schedule keeps its anchor. Records Updated only when a setting
        differs, and answers which did (docs/api.md, "Import")."""
        self._check_alive()
        config = JobConfig.new(fields, now=now, default_location=default_location)
        if (config.schedule_type, config.schedule) == (self.config.schedule_type, self.config.schedule):
            config = replace(config, schedule_anchor=self.config.schedule_anchor)
        enabled = _enabled_field(fields, True)
        changed = diff.changes(diff.settings(self.config, self.enabled), diff.settings(config, enabled))
        if changed:
            nxt = config.build_schedule(default_location).next_after(now) if enabled else None
            self.trigger_event(
                self.Updated, timestamp=now, **_settings(config), enabled=enabled, actor=actor, next_execution=nxt
            )
        return changed

    def revert(
        self, target: JobConfig, *, enabled: bool, disabled_reason: str, reverted_to: int, reason: str, actor: str,
        now: datetime, default_location: Location | None = None,
    ) -> None:
        """Restore `target` (an earlier version's configuration) and `enabled` (with its disabled
        reason). The schedule counts from now when it differs from the current one, as an edit's."""
        self._check_alive()
        anchor = self.config.schedule_anchor
        if (target.schedule_type, target.schedule) != (self.config.schedule_type, self.config.schedule):
            anchor = now
        config = JobConfig(
            target.name, target.description, target.schedule_type, dict(target.schedule), anchor,
            dict(target.action), list(target.tags), dict(target.options),
        )
        nxt = config.build_schedule(default_location).next_after(now) if enabled else None
        self.trigger_event(
            self.Reverted, timestamp=now, **_settings(config), enabled=enabled,
            actor=actor, next_execution=nxt, reverted_to=reverted_to, reason=reason,
            disabled_reason="" if enabled else disabled_reason,
        )

    def toggle(
        self, enabled: bool, reason: str, *, actor: str, now: datetime, default_location: Location | None = None
    ) -> bool:
        """Returns whether anything changed; toggling to the current state records nothing."""
        self._check_alive()
        if enabled == self.enabled:
            return False
        nxt = self.schedule_for(default_location).next_after(now) if enabled else None
        self.trigger_event(self.Toggled, timestamp=now, enabled=enabled, reason=reason, actor=actor, next_execution=nxt,
                           tags=list(self.config.tags))
        return True

    def reset(
        self, *, keep_data: bool, actor: str, now: datetime, default_location: Location | None = None
    ) -> None:
        self._check_alive()
        nxt = self.schedule_for(default_location).next_after(now)
        self.trigger_event(
            self.Reset, timestamp=now, gateway_id=self.gateway_id, job_id=self.job_id, options=JobOptions().to_dict(),
            keep_data=keep_data, actor=actor, next_execution=nxt, enabled=True, name=self.config.name,
            schedule_type=self.config.schedule_type, tags=list(self.config.tags),
        )

    def delete(self, *, actor: str, now: datetime) -> None:
        self._check_alive()
        self.trigger_event(self.Deleted, timestamp=now, actor=actor, tags=list(self.config.tags))

    def request_run(
        self, execution_id: str, parameters: dict[str, Any], *, force: bool, actor: str, now: datetime
    ) -> None:
        self._check_alive()
        if not self.enabled and not force:
            raise ValidationFailed(
                f"Job {self.job_id} is disabled; pass force to run it anyway", {"field": "force", "reason": "disabled"}
            )
        self.trigger_event(
            self.RunRequested, timestamp=now, execution_id=execution_id, parameters=parameters, force=force, actor=actor
        )

    @staticmethod
    def id_for(gateway_id: str, job_id: str) -> UUID:
        return job_uuid(gateway_id, job_id)


def _enabled_field(fields: dict[str, Any], default: bool) -> bool:
    enabled = fields.get("enabled", default)
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled must be a boolean", {"field": "enabled", "reason": "wrong type"})
    return enabled


def _settings(config: JobConfig) -> dict[str, Any]:
    """The configuration fields every Created, Updated and Reverted event carries."""
    return {
        "name": config.name, "description": config.description, "schedule_type": config.schedule_type,
        "schedule": config.schedule, "schedule_anchor": config.schedule_anchor, "action": config.action,
        "tags": config.tags, "options": config.options,
    }


def job_event_classes() -> tuple[type[Any], ...]:
    """Every event class of a Job, those added later (bulk, import, reset) included: readers that
    follow all of a job's changes (the dispatcher, the audit) subscribe to these."""
    found: list[type[Any]] = []
    pending: list[type[Any]] = [v for v in vars(Job).values() if isinstance(v, type)]
    while pending:
        cls = pending.pop(0)
        if issubclass(cls, (Aggregate.Event, Aggregate.Created)) and cls not in found and cls is not Job.Event:
            found.append(cls)
            pending.extend(v for v in vars(cls).values() if isinstance(v, type))
    return tuple(found)
