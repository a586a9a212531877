"""The Scheduler application: loads and saves Job and Gateway aggregates (the command side)."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding

from application.clock import Clock, utc_now
from application.repository import ConsistentCopyRepository
from domain.errors import JobNotFound, VersionConflict
from domain.gateway import Gateway
from domain.identity import (
    check_gateway_id,
    check_job_id,
    execution_id,
    gateway_uuid,
    job_uuid,
    new_job_id,
)
from domain.job import Job
from domain.job_config import JobConfig

T = TypeVar("T")
# Creates in one gateway all touch its Gateway aggregate (for the job limit), so bursts collide;
# a collision re-runs the command on fresh state after a short random pause.
_CONFLICT_RETRIES = 30


@dataclass(frozen=True)
class Saved:
    """What a command changed: the job after it, and the (topic, position) of each event."""

    job: Job
    recorded: tuple[tuple[str, int], ...]


def _recorded(recordings: Sequence[Recording[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((r.notification.topic, r.notification.id) for r in recordings)


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

    def _taken(self, aggregate_id: UUID) -> Job | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def gateway(self, gateway_id: str) -> Gateway | None:
        try:
            return self.repository.get(gateway_uuid(gateway_id))
        except AggregateNotFoundError:
            return None

    def _gateway_or_new(self, gateway_id: str) -> Gateway:
        return self.gateway(gateway_id) or Gateway.create(check_gateway_id(gateway_id), self.clock())

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

    # ---- commands -----------------------------------------------------------------------

    def register_gateway(
        self, gateway_id: str, *, name: str, location: str, latitude: float | None, longitude: float | None
    ) -> tuple[tuple[str, int], ...]:
        def command() -> tuple[tuple[str, int], ...]:
            gateway = self._gateway_or_new(gateway_id)
            gateway.register(name=name, location=location, latitude=latitude, longitude=longitude, now=self.clock())
            return _recorded(self.save(gateway))

        return self._retrying(command)

    def create_job(self, gateway_id: str, fields: dict[str, Any], *, actor: str) -> Saved:
        job_id = check_job_id(fields["id"]) if fields.get("id") is not None else new_job_id()  # "" is no id

        def command() -> Saved:
            now = self.clock()
            taken = self._taken(job_uuid(gateway_id, job_id))
            if taken is not None:
                if taken.deleted:  # docs/decisions.md: a deleted job's id is never given again
                    raise VersionConflict(
                        f"Job id {job_id} belonged to a job deleted in gateway {gateway_id}; ids are not reused",
                        {"job_id": job_id, "reason": "deleted"},
                    )
                raise VersionConflict(f"Job id {job_id} is already taken in gateway {gateway_id}",
                                      {"job_id": job_id, "reason": "taken"})
            gateway = self._gateway_or_new(gateway_id)
            job = Job.create(
                gateway_id=gateway_id, job_id=job_id, fields=fields, actor=actor, now=now,
                default_location=gateway.location_point,
            )
            gateway.add_job(job_id, max_jobs=self.max_jobs, now=now)
            return Saved(job, _recorded(self.save(gateway, job)))

        return self._retrying(command)

    def _change(
        self, gateway_id: str, job_id: str, expected_version: int | None, change: Callable[[Job], Any]
    ) -> Saved:
        def command() -> Saved:
            job = self.job(gateway_id, job_id)
            if expected_version is not None and job.version != expected_version:
                raise VersionConflict(
                    f"Job {job_id} is at version {job.version}, not {expected_version}",
                    {"current_version": job.version, "expected_version": expected_version},
                )
            result = change(job)
            extra = result if isinstance(result, list) else []  # aggregates that change with the job
            return Saved(job, _recorded(self.save(job, *extra)))

        if expected_version is not None:
            try:
                return command()
            except IntegrityError:
                raise VersionConflict(f"Job {job_id} was changed concurrently", None) from None
        return self._retrying(command)

    def _location(self, gateway_id: str) -> tuple[float, float] | None:
        gateway = self.gateway(gateway_id)
        return gateway.location_point if gateway else None

    def update_job(
        self, gateway_id: str, job_id: str, patch: dict[str, Any], *, actor: str, expected_version: int | None = None
    ) -> Saved:
        location = self._location(gateway_id)
        return self._change(
            gateway_id, job_id, expected_version,
            lambda job: job.update(patch, actor=actor, now=self.clock(), default_location=location),
        )

    def toggle_job(
        self, gateway_id: str, job_id: str, *, enabled: bool, reason: str, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        location = self._location(gateway_id)
        return self._change(
            gateway_id, job_id, expected_version,
            lambda job: job.toggle(enabled, reason, actor=actor, now=self.clock(), default_location=location),
        )

    def request_run(
        self, gateway_id: str, job_id: str, *, parameters: dict[str, Any], force: bool, actor: str
    ) -> tuple[str, Saved]:
        """Ask the gateway's dispatcher to run the job now; returns the execution id it will use."""
        now = self.clock()
        run_id = execution_id(job_id, "manual", now, nonce=secrets.token_hex(4))
        saved = self._change(
            gateway_id, job_id, None,
            lambda job: job.request_run(run_id, parameters, force=force, actor=actor, now=now),
        )
        return run_id, saved

    def delete_job(
        self, gateway_id: str, job_id: str, *, actor: str, expected_version: int | None = None
    ) -> Saved:
        def change(job: Job) -> list[Gateway]:  # the job and its gateway's job set change together
            now = self.clock()
            job.delete(actor=actor, now=now)
            gateway = self._gateway_or_new(gateway_id)
            gateway.remove_job(job_id, now=now)
            return [gateway]

        return self._change(gateway_id, job_id, expected_version, change)
