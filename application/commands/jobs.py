"""Commands on jobs (create, update, toggle, delete, run) and the handler deciding each: load,
call one aggregate method, hand back every aggregate that changes with it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import gateway_or_new, gateway_to_extend
from domain.errors import VersionConflict
from domain.identity import check_job_id, execution_id, new_job_id
from domain.job import Job


@dataclass(frozen=True, slots=True)
class CreateJob:
    gateway_id: str
    name: str
    type: str
    schedule: Mapping[str, Any]
    action: Mapping[str, Any]
    description: str = ""
    enabled: bool = True
    tags: tuple[str, ...] = ()
    options: Mapping[str, Any] | None = None
    job_id: str | None = None  # None: a new id is drawn ("" is no id: refused)

    @classmethod
    def from_fields(cls, gateway_id: str, fields: Mapping[str, Any]) -> CreateJob:
        """From a job's fields as the contract names them (`id` for the job id): tests, the
        fault harness and imports hold jobs in that shape."""
        given = {k: v for k, v in fields.items() if v is not None and k != "id"}
        if "tags" in given:
            given["tags"] = tuple(given["tags"])
        return cls(gateway_id=gateway_id, job_id=fields.get("id"), **given)

    def fields(self) -> dict[str, Any]:
        """The configuration as the domain validates it (JobConfig.new)."""
        fields = {
            "name": self.name, "type": self.type, "schedule": dict(self.schedule), "action": dict(self.action),
            "description": self.description, "enabled": self.enabled, "tags": list(self.tags),
        }
        if self.options is not None:
            fields["options"] = dict(self.options)
        return fields


@dataclass(frozen=True, slots=True)
class UpdateJob:
    """A patch: fields left None keep their values. `expected_version` makes it conditional."""

    gateway_id: str
    job_id: str
    name: str | None = None
    description: str | None = None
    type: str | None = None
    enabled: bool | None = None
    schedule: Mapping[str, Any] | None = None
    action: Mapping[str, Any] | None = None
    tags: tuple[str, ...] | None = None
    options: Mapping[str, Any] | None = None
    expected_version: int | None = None

    def patch(self) -> dict[str, Any]:
        given = {
            "name": self.name, "description": self.description, "type": self.type, "enabled": self.enabled,
            "schedule": None if self.schedule is None else dict(self.schedule),
            "action": None if self.action is None else dict(self.action),
            "tags": None if self.tags is None else list(self.tags),
            "options": None if self.options is None else dict(self.options),
        }
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True, slots=True)
class ToggleJob:
    gateway_id: str
    job_id: str
    enabled: bool
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteJob:
    gateway_id: str
    job_id: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RunJob:
    gateway_id: str
    job_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    force: bool = False


def _location(aggregates: Aggregates, gateway_id: str) -> tuple[float, float] | None:
    gateway = aggregates.gateway(gateway_id)
    return gateway.location_point if gateway else None


def _current(aggregates: Aggregates, gateway_id: str, job_id: str, expected_version: int | None) -> Job:
    job = aggregates.job(gateway_id, job_id)
    if expected_version is not None and job.version != expected_version:
        raise VersionConflict(
            f"Job {job_id} is at version {job.version}, not {expected_version}",
            {"current_version": job.version, "expected_version": expected_version},
        )
    return job


def create_job(command: CreateJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    """The job and its gateway's job set (for the per-gateway limit) change together."""
    gateway_id = command.gateway_id
    now = aggregates.clock()
    # A drawn id (60 random bits) is not looked up: were it taken, the save would fail on the
    # store's unique (aggregate, version) and the command re-run under another drawn id.
    job_id = check_job_id(command.job_id) if command.job_id is not None else new_job_id()
    taken = aggregates.job_ever(gateway_id, job_id) if command.job_id is not None else None
    if taken is not None:
        if taken.deleted:  # docs/decisions.md: a deleted job's id is never given again
            raise VersionConflict(
                f"Job id {job_id} belonged to a job deleted in gateway {gateway_id}; ids are not reused",
                {"job_id": job_id, "reason": "deleted"},
            )
        raise VersionConflict(f"Job id {job_id} is already taken in gateway {gateway_id}",
                              {"job_id": job_id, "reason": "taken"})
    gateway = gateway_to_extend(aggregates, gateway_id)
    job = Job.create(
        gateway_id=gateway_id, job_id=job_id, fields=command.fields(), actor=context.actor, now=now,
        default_location=gateway.location_point,
    )
    gateway.add_job(job_id, max_jobs=aggregates.max_jobs, now=now)
    return Decision((gateway, job), job)


def update_job(command: UpdateJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    location = _location(aggregates, command.gateway_id)
    job = _current(aggregates, command.gateway_id, command.job_id, command.expected_version)
    job.update(command.patch(), actor=context.actor, now=aggregates.clock(), default_location=location)
    return Decision((job,), job)


def toggle_job(command: ToggleJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    """Toggling to the current state records nothing."""
    location = _location(aggregates, command.gateway_id)
    job = _current(aggregates, command.gateway_id, command.job_id, command.expected_version)
    job.toggle(command.enabled, command.reason, actor=context.actor, now=aggregates.clock(), default_location=location)
    return Decision((job,), job)


def delete_job(command: DeleteJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    """The job and its gateway's job set change together."""
    job = _current(aggregates, command.gateway_id, command.job_id, command.expected_version)
    now = aggregates.clock()
    job.delete(actor=context.actor, now=now)
    gateway = gateway_or_new(aggregates, command.gateway_id)
    gateway.remove_job(command.job_id, now=now)
    return Decision((job, gateway), job)


def run_job(command: RunJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    """Asks the gateway's dispatcher to run the job now, under a fresh manual execution id."""
    job = _current(aggregates, command.gateway_id, command.job_id, None)
    now = aggregates.clock()
    run_id = execution_id(command.job_id, "manual", now, nonce=secrets.token_hex(4))
    job.request_run(run_id, dict(command.parameters), force=command.force, actor=context.actor, now=now)
    return Decision((job,), job, run_id)
