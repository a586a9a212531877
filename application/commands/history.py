"""Commands that restore earlier configurations from the log: revert one job to a version, and
undo an operation (a bulk change, an import) by compensating events. Both decide on aggregates
loaded at the versions named (the write side's truth); the audit read model only chose them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import gateway_or_new
from application.commands.jobs import _current, _location
from domain.errors import ValidationFailed, VersionConflict


@dataclass(frozen=True, slots=True)
class RevertJob:
    """Restore the configuration (name, description, schedule, action, tags, options) the job had
    at `version`; whether it is enabled stays as it is now (a toggle says that, with a reason)."""

    gateway_id: str
    job_id: str
    version: int
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class UndoStep:
    """One job's compensation: at `expected_version` (as the plan saw it), either restore the
    configuration and enabled state of `restore_version`, or delete the job (it was created by the
    operation undone)."""

    job_id: str
    expected_version: int
    kind: Literal["restore", "delete"]
    restore_version: int = 0


@dataclass(frozen=True, slots=True)
class UndoOperation:
    """All steps commit together or not at all; a job changed between the plan and the commit is
    VERSION_CONFLICT (plan again). Run with the undone operation's id in the CommandContext."""

    gateway_id: str
    operation_id: str
    steps: tuple[UndoStep, ...]


def revert_job(command: RevertJob, aggregates: Aggregates, context: CommandContext) -> Decision:
    job = _current(aggregates, command.gateway_id, command.job_id, command.expected_version)
    if not 1 <= command.version < job.version:
        raise ValidationFailed(
            f"version must be an earlier version of job {command.job_id} (1..{job.version - 1})",
            {"field": "version", "current_version": job.version},
        )
    old = aggregates.job_at(command.gateway_id, command.job_id, command.version)
    job.revert(
        old.config, enabled=job.enabled, disabled_reason=job.disabled_reason, reverted_to=command.version,
        reason=command.reason or f"revert to version {command.version}", actor=context.actor,
        now=aggregates.clock(), default_location=_location(aggregates, command.gateway_id),
    )
    return Decision((job,), job)


def undo_operation(command: UndoOperation, aggregates: Aggregates, context: CommandContext) -> Decision:
    location = _location(aggregates, command.gateway_id)
    now = aggregates.clock()
    changed = []
    gateway = None
    for step in command.steps:
        try:
            job = _current(aggregates, command.gateway_id, step.job_id, step.expected_version)
        except VersionConflict as conflict:
            raise VersionConflict(
                f"Job {step.job_id} changed while operation {command.operation_id} was being undone; plan again",
                conflict.details,
            ) from None
        if step.kind == "delete":
            job.delete(actor=context.actor, now=now)
            gateway = gateway or gateway_or_new(aggregates, command.gateway_id)
            gateway.remove_job(step.job_id, now=now)
        else:
            old = aggregates.job_at(command.gateway_id, step.job_id, step.restore_version)
            job.revert(
                old.config, enabled=old.enabled, disabled_reason=old.disabled_reason,
                reverted_to=step.restore_version, reason=f"undo of operation {command.operation_id}",
                actor=context.actor, now=now, default_location=location,
            )
        changed.append(job)
    return Decision((*changed, *([gateway] if gateway else [])), changed[0] if changed else None)
