"""Commands on every job of a gateway at once (docs/decisions.md 48-52): run all, disable all (and
the re-enabling at its deadline), reset all, and advancing a run-all's execution group. Each
decides on every aggregate it changes, so the commit point saves them in one transaction; the
operation id of the CommandContext is then on every event."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.commands.context import Aggregates, CommandContext, Decision
from application.dispatch.due_index import MANUAL_RUN_WINDOW
from domain.errors import JobNotFound
from domain.execution_group import ExecutionGroup
from domain.identity import execution_id
from domain.job import Job

# The events that set a job's configuration: the last of them says who set it last.
_CONFIGURATION = (Job.Created, Job.Updated, Job.Toggled, Job.Reset, Job.Deleted)


@dataclass(frozen=True, slots=True)
class RunAll:
    gateway_id: str
    group_id: str
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    sequential: bool = False


@dataclass(frozen=True, slots=True)
class DisableAll:
    gateway_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReenableDisabled:
    """At a disable-all's deadline: enable again each job that operation disabled and nobody has
    configured since (its last configuration event is that operation's Toggled)."""

    gateway_id: str
    operation_id: str


@dataclass(frozen=True, slots=True)
class ResetAll:
    gateway_id: str
    keep_data: bool


@dataclass(frozen=True, slots=True)
class AdvanceGroup:
    """Record what happened to a group's members since, start the next member of a sequential
    group, complete the group when no member is left (the dispatcher's follow-up, decision 49)."""

    gateway_id: str
    group_id: str


@dataclass(frozen=True)
class GroupAnswer:
    group_id: str
    total_jobs: int
    started_jobs: int
    status: str


def _jobs(aggregates: Aggregates, gateway_id: str) -> list[Job]:
    """The gateway's live jobs, in the order they were created."""
    return [job for job, _ in aggregates.jobs_of(gateway_id)]


def _location(aggregates: Aggregates, gateway_id: str) -> tuple[float, float] | None:
    gateway = aggregates.gateway(gateway_id)
    return gateway.location_point if gateway else None


def _matches(job: Job, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    tags = set(job.config.tags)
    return (not include or bool(tags.intersection(include))) and not tags.intersection(exclude)


def _request(job: Job, group: ExecutionGroup, position: int, context: CommandContext, now: datetime) -> None:
    member = group.members[position]
    job.request_run(member["execution_id"], {}, force=False, actor=context.actor, now=now)
    group.member_started(position, now=now)


def run_all(command: RunAll, aggregates: Aggregates, context: CommandContext) -> Decision:
    """The group and the run request of each member it starts now, in one transaction: every
    matching enabled job for a parallel group, the first one for a sequential group."""
    now = aggregates.clock()
    jobs = [j for j in _jobs(aggregates, command.gateway_id)
            if j.enabled and _matches(j, command.include_tags, command.exclude_tags)]
    members = [{"job_id": j.job_id, "execution_id": execution_id(j.job_id, "manual", now, nonce=secrets.token_hex(4))}
               for j in jobs]
    group = ExecutionGroup.start(
        gateway_id=command.gateway_id, group_id=command.group_id, sequential=command.sequential, members=members,
        include_tags=list(command.include_tags), exclude_tags=list(command.exclude_tags), now=now,
    )
    starting = jobs[:1] if command.sequential else jobs
    for position, job in enumerate(starting):
        _request(job, group, position, context, now)
    done = group.complete_if_done(now=now)  # an empty group is complete at once
    answer = GroupAnswer(command.group_id, len(jobs), len(starting), "completed" if done else "started")
    return Decision((group, *starting), report=answer)


def disable_all(command: DisableAll, aggregates: Aggregates, context: CommandContext) -> Decision:
    now = aggregates.clock()
    changed = [j for j in _jobs(aggregates, command.gateway_id)
               if j.toggle(False, command.reason, actor=context.actor, now=now)]
    return Decision(changed, report=[j.job_id for j in changed])


def disabled_by(events: list[Any], operation_id: str) -> bool:
    """Whether the job's configuration was last set by that operation's disabling."""
    last = next((e for e in reversed(events) if isinstance(e, _CONFIGURATION)), None)
    return (isinstance(last, Job.Toggled) and not last.enabled
            and getattr(last, "operation_id", None) == operation_id)


def reenable_disabled(command: ReenableDisabled, aggregates: Aggregates, context: CommandContext) -> Decision:
    now = aggregates.clock()
    location = _location(aggregates, command.gateway_id)
    reason = f"re-enabled at the end of operation {command.operation_id}"
    changed = []
    for job, events in aggregates.jobs_of(command.gateway_id):
        if disabled_by(events, command.operation_id):
            job.toggle(True, reason, actor=context.actor, now=now, default_location=location)
            changed.append(job)
    return Decision(changed, report=[j.job_id for j in changed])


def reset_all(command: ResetAll, aggregates: Aggregates, context: CommandContext) -> Decision:
    now = aggregates.clock()
    location = _location(aggregates, command.gateway_id)
    jobs = list(_jobs(aggregates, command.gateway_id))
    for job in jobs:
        job.reset(keep_data=command.keep_data, actor=context.actor, now=now, default_location=location)
    return Decision(jobs, report=[j.job_id for j in jobs])


def _settle_started(group: ExecutionGroup, aggregates: Aggregates, now: datetime) -> None:
    """A started member whose execution is final is finished; one whose run request the
    dispatchers will no longer take (MANUAL_RUN_WINDOW) without an execution is skipped."""
    for position in group.positions("started"):
        member = group.members[position]
        execution = aggregates.execution(group.gateway_id, member["execution_id"])
        if execution is not None and execution.finished:
            group.member_finished(position, execution.status, now=now)
        elif execution is None and now - (group.started_at[position] or now) > MANUAL_RUN_WINDOW:
            group.member_skipped(position, "no dispatcher started its run within the manual-run window", now=now)


def advance_group(command: AdvanceGroup, aggregates: Aggregates, context: CommandContext) -> Decision:
    group = aggregates.execution_group(command.gateway_id, command.group_id)
    if group is None or group.status != "running":
        return Decision((), report=group)
    now = aggregates.clock()
    _settle_started(group, aggregates, now)
    changed: list[Any] = [group]
    while group.sequential and not group.positions("started") and group.positions("waiting"):
        position = group.positions("waiting")[0]
        member = group.members[position]
        try:
            job = aggregates.job(command.gateway_id, member["job_id"])
        except JobNotFound:
            group.member_skipped(position, "the job was deleted before its turn", now=now)
            continue
        if not job.enabled:
            group.member_skipped(position, "the job was disabled before its turn", now=now)
            continue
        _request(job, group, position, context, now)
        changed.append(job)
    group.complete_if_done(now=now)
    return Decision(changed if group.pending_events else (), report=group)
