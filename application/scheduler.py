"""The Scheduler application: loads Job and Gateway aggregates and is the one commit point of the
commands (application/commands/); the dispatcher records executions through `record`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Recording,
    Transcoding,
)

from application.clock import Clock, utc_now
from application.commands import (
    Command,
    CommandContext,
    CreateJob,
    DeleteJob,
    RegisterGateway,
    RunJob,
    ToggleJob,
    UpdateJob,
    handler_for,
)
from application.repository import ConsistentCopyRepository
from domain.errors import JobNotFound, VersionConflict
from domain.gateway import Gateway
from domain.identity import gateway_uuid, job_uuid
from domain.job import Job
from domain.job_config import JobConfig

T = TypeVar("T")
# Creates in one gateway all touch its Gateway aggregate (for the job limit), so bursts collide;
# a collision re-runs the command on fresh state after a short random pause.
_CONFLICT_RETRIES = 30
# Written by the commit point on every event a command records (docs/events.md, "Cause").
CAUSE_FIELDS = ("actor", "request_id", "operation_id")


@dataclass(frozen=True)
class Saved:
    """What a command recorded: the job it was about, the (topic, position) of each event (the
    caller waits for the read side to reach them), and the execution id of a run request."""

    job: Job | None
    recorded: tuple[tuple[str, int], ...]
    execution_id: str | None = None


def _recorded(recordings: Sequence[Recording[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((r.notification.topic, r.notification.id) for r in recordings)


def _pending(aggregates: Sequence[Any]) -> list[Any]:
    return [event for aggregate in aggregates for event in aggregate.pending_events]


def _stamp(events: Sequence[Any], context: CommandContext) -> None:
    """The cause is the command's, not the aggregate's business: written here on every event, so
    no aggregate method carries it and no event of a command can miss it. Events are frozen
    dataclasses; as the library's own mapper does, the attribute is set on the object itself."""
    for event in events:
        for name in CAUSE_FIELDS:
            object.__setattr__(event, name, getattr(context, name))


class JobConfigAsDict(Transcoding):
    type = JobConfig
    name = "job_config"

    def encode(self, obj: JobConfig) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(JobConfig)}

    def decode(self, data: dict[str, Any]) -> JobConfig:
        return JobConfig(**data)


class Scheduler(Application[UUID]):
    name = "Scheduler"
    snapshotting_intervals = {Job: 100, Gateway: 100}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Snapshots of a Job carry its JobConfig value object."""
        super().register_transcodings(transcoder)
        transcoder.register(JobConfigAsDict())

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository with its settings, but copies taken consistently (see
        application/repository.py: the cause of issue 9's exceeded job limit)."""
        return ConsistentCopyRepository.like(super().construct_repository())

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock = utc_now, max_jobs: int = 1000) -> None:
        super().__init__(env)
        self.clock = clock
        self.max_jobs = max_jobs

    # ---- loading ----------------------------------------------------------------------

    def job_events(self, gateway_id: str, job_id: str) -> list[Any]:
        """Every event of a job, deleted or not, oldest first (snapshots do not hide any)."""
        events = list(self.events.get(job_uuid(gateway_id, job_id)))
        if not events:
            raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
        return events

    def job(self, gateway_id: str, job_id: str) -> Job:
        try:
            job: Job = self.repository.get(job_uuid(gateway_id, job_id))
        except AggregateNotFoundError:
            job = None  # type: ignore[assignment]
        if job is None or job.deleted:
            raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
        return job

    def job_ever(self, gateway_id: str, job_id: str) -> Job | None:
        """The job under this id, deleted or not (a deleted job's id is never given again)."""
        try:
            return self.repository.get(job_uuid(gateway_id, job_id))
        except AggregateNotFoundError:
            return None

    def job_at(self, gateway_id: str, job_id: str, version: int) -> Job:
        """The job as it was at `version` (revert and undo restore its configuration)."""
        try:
            job: Job = self.repository.get(job_uuid(gateway_id, job_id), version=version)
        except AggregateNotFoundError:
            raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id}) from None
        if job.version != version:
            raise JobNotFound(f"Job {job_id} has no version {version}", {"job_id": job_id, "version": version})
        return job

    def gateway(self, gateway_id: str) -> Gateway | None:
        try:
            return self.repository.get(gateway_uuid(gateway_id))
        except AggregateNotFoundError:
            return None

    @staticmethod
    def _retrying(command: Callable[[], T]) -> T:
        """Re-run a command whose save lost a race with another writer (it re-loads fresh
        state); a client that named the version it read gets VERSION_CONFLICT instead."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                return command()
            except IntegrityError:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise VersionConflict("The job was changed concurrently; retry", None) from None
                time.sleep(random.uniform(0.001, 0.005 * (attempt + 1)))
        raise AssertionError("unreachable")

    def record(self, aggregates: Sequence[Any], **kwargs: Any) -> list[Recording[Any]]:
        """Save aggregates that need no snapshots (executions) on the dispatcher's hot path:
        `save()` spends more on runtime protocol checks per object than on encoding."""
        events = [event for aggregate in aggregates for event in aggregate.pending_events]
        recordings = self.events.put(events, **kwargs)
        for aggregate in aggregates:  # only once saved: a failed save can be retried as it was
            aggregate.collect_events()
        return recordings

    # ---- the commit point ----------------------------------------------------------------

    def execute(self, command: Command, context: CommandContext) -> Saved:
        """The one place commands save: the handler decides on freshly loaded aggregates, then
        every aggregate it changed is saved in one transaction, each event carrying the context.
        A command that names the version it read (If-Match) fails with VERSION_CONFLICT when it
        lost a race; any other re-runs on fresh state."""
        handle = handler_for(command)

        def attempt() -> Saved:
            decision = handle(command, self, context)
            _stamp(_pending(decision.aggregates), context)
            return Saved(decision.job, _recorded(self.save(*decision.aggregates)), decision.execution_id)

        if getattr(command, "expected_version", None) is not None:
            try:
                return attempt()
            except IntegrityError:
                raise VersionConflict(f"Job {getattr(command, 'job_id', '')} was changed concurrently", None) from None
        return self._retrying(attempt)

    def plan(self, command: Command, context: CommandContext) -> list[Any]:
        """A dry run: the events `execute` would record now, context included, saving nothing
        (the handler works on copies from the repository, which are then dropped)."""
        events = _pending(handler_for(command)(command, self, context).aggregates)
        _stamp(events, context)
        return events

    # ---- shortcuts for in-process callers (tests, the fault harness, benchmarks) ---------------

    def register_gateway(
        self, gateway_id: str, *, name: str, location: str, latitude: float | None, longitude: float | None,
        context: CommandContext | None = None,
    ) -> tuple[tuple[str, int], ...]:
        command = RegisterGateway(gateway_id, name, location, latitude, longitude)
        return self.execute(command, context or CommandContext(f"worker/{gateway_id}", None)).recorded

    def create_job(self, gateway_id: str, fields: dict[str, Any], *, actor: str) -> Saved:
        return self.execute(CreateJob.from_fields(gateway_id, fields), CommandContext(actor, None))

    def update_job(
        self, gateway_id: str, job_id: str, patch: dict[str, Any], *, actor: str, expected_version: int | None = None
    ) -> Saved:
        given = {k: tuple(v) if k == "tags" else v for k, v in patch.items() if v is not None}
        command = UpdateJob(gateway_id, job_id, expected_version=expected_version, **given)
        return self.execute(command, CommandContext(actor, None))

    def toggle_job(
        self, gateway_id: str, job_id: str, *, enabled: bool, reason: str, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self.execute(ToggleJob(gateway_id, job_id, enabled, reason, expected_version), CommandContext(actor, None))

    def request_run(
        self, gateway_id: str, job_id: str, *, parameters: dict[str, Any], force: bool, actor: str
    ) -> tuple[str, Saved]:
        saved = self.execute(RunJob(gateway_id, job_id, parameters, force), CommandContext(actor, None))
        assert saved.execution_id is not None
        return saved.execution_id, saved

    def delete_job(
        self, gateway_id: str, job_id: str, *, actor: str, expected_version: int | None = None
    ) -> Saved:
        return self.execute(DeleteJob(gateway_id, job_id, expected_version), CommandContext(actor, None))
