"""The dispatcher's decisions, without I/O or clock: given the fires due now and each job's state,
which runs start, which wait in their job's queue, which instants are recorded missed (overlap
policy, and the misfire policy for instants found more than the grace period late)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.dispatch.due_index import Due, JobEntry
from application.dispatch.outcomes import Outcome
from domain.execution import Execution
from domain.fire_group import FireGroup
from domain.identity import execution_id as derive_execution_id
from domain.misfires import misfire_plan

# Instants up to this late fire normally; later ones follow the job's misfire policy, whatever
# made them late (downtime, a paused or overloaded process).
GRACE = timedelta(seconds=2)
OVERLAP_SKIPPED = "skipped: the previous run was still running"
CAUGHT_UP_SKIPPED = ("skipped: caught up late while the run of an earlier instant, begun after this one was due,"
                     " was still running")
TRIGGERS = {"scheduled": "scheduled", "queued": "scheduled", "misfire": "misfire", "manual": "manual"}


@dataclass
class FirePlan:
    starts: list[tuple[JobEntry, Due]] = field(default_factory=list)  # new runs, each at due.fire_at
    retries: list[tuple[JobEntry, Due]] = field(default_factory=list)  # next attempts of recorded runs
    missed: list[tuple[JobEntry, datetime, str]] = field(default_factory=list)  # (entry, instant, reason)
    reschedule: list[tuple[JobEntry, datetime]] = field(default_factory=list)  # next fire strictly after
    taken: list[Due] = field(default_factory=list)  # consumed here: due again if recording them fails
    orphans: list[Due] = field(default_factory=list)  # retries of a job deleted since: closed, not run

    def __bool__(self) -> bool:
        return bool(self.starts or self.retries or self.missed)


def late_cause(late: timedelta) -> str:
    return f"{late.total_seconds():.1f} s late: the dispatcher was paused, overloaded or without its lease"


def plan_fires(dues: Iterable[Due], entries: Mapping[str, JobEntry], now: datetime) -> FirePlan:
    """Decide for each due item. Updates each entry's `last_due` and `queued` (the jobs' state
    the plan is made against); the caller records the plan and applies `reschedule`."""
    plan = FirePlan()
    for due in dues:
        entry = entries.get(due.job_id)
        if entry is None:
            if due.kind == "retry":
                plan.orphans.append(due)
            continue
        if due.kind == "retry":
            plan.retries.append((entry, due))
            plan.taken.append(due)
            continue
        if due.kind == "manual" or due.nominal is None:
            plan.starts.append((entry, due))
            plan.taken.append(due)
            continue
        late = now - due.fire_at
        if due.kind == "scheduled" and late > GRACE:
            _plan_late(plan, entry, due, now, late)
            continue
        entry.last_due = max(entry.last_due or due.nominal, due.nominal)
        if due.kind == "scheduled" and not due.requeued:
            plan.reschedule.append((entry, due.nominal))
        _start_or_overlap(plan, entry, due)
    return plan


def _start_or_overlap(plan: FirePlan, entry: JobEntry, due: Due) -> None:
    assert due.nominal is not None
    busy = entry.running or (entry.queued and due.kind != "queued")  # queued runs keep their order
    policy = entry.options.overlap_policy
    if busy and policy == "queue":
        entry.queued.append(due)  # started when the job is free (Dispatcher._free_ended)
        return
    plan.taken.append(due)
    if busy and policy != "allow":
        plan.missed.append((entry, due.nominal, overlap_reason(entry, due.nominal)))
    else:
        plan.starts.append((entry, due))


def overlap_reason(entry: JobEntry, instant: datetime, but: str = "") -> str:
    """Why an instant of a busy job is skipped (overlap_policy=skip): its previous run was running
    at the instant, or, when the instant is caught up late (a takeover, a paused or overloaded
    dispatcher), a run begun after it was due still runs (decision 293)."""
    began = [at for execution_id, at in entry.running.items() if execution_id != but]
    return OVERLAP_SKIPPED if any(at <= instant for at in began) or not began else CAUGHT_UP_SKIPPED


def _plan_late(plan: FirePlan, entry: JobEntry, due: Due, now: datetime, late: timedelta) -> None:
    """`due` is the first of the job's instants not yet planned; every instant up to now minus
    the grace follows the misfire policy, as after downtime."""
    assert due.nominal is not None
    plan.taken.append(due)
    after = due.nominal - timedelta(microseconds=1)
    misfire = misfire_plan(entry.schedule, entry.options, after, now - GRACE, late_cause(late))
    for instant in misfire.missed:
        plan.missed.append((entry, instant, misfire.reason))
    for instant in misfire.run:
        _start_or_overlap(plan, entry, Due(now, 0, entry.job_id, instant, 0.0, entry.generation, "misfire"))
    resume = misfire.resume_after or due.nominal
    entry.last_due = max(entry.last_due or resume, resume)
    if not due.requeued:
        plan.reschedule.append((entry, resume))


def started_run(gateway_id: str, entry: JobEntry, due: Due, now: datetime) -> Execution:
    """The Execution a start of the plan records (its id derived from the job and the instant)."""
    execution_id = due.execution_id or derive_execution_id(entry.job_id, "scheduled", due.nominal or now)
    actor, request_id, operation_id = due.cause or ("scheduler", None, None)
    return Execution.start(
        gateway_id=gateway_id, job_id=entry.job_id, execution_id=execution_id, job_name=entry.name,
        trigger=TRIGGERS[due.kind], scheduled_for=due.nominal, now=now, jitter_seconds=due.jitter_seconds,
        parameters=due.parameters, max_attempts=entry.options.max_attempts, actor=actor,
        request_id=request_id, operation_id=operation_id, tags=entry.tags,
    )


def missed_run(gateway_id: str, entry: JobEntry, instant: datetime, reason: str, now: datetime) -> Execution:
    """The Execution that records an instant of the plan as missed, and why."""
    return Execution.missed(
        gateway_id=gateway_id, job_id=entry.job_id, job_name=entry.name, scheduled_for=instant,
        execution_id=derive_execution_id(entry.job_id, "scheduled", instant), reason=reason, now=now,
        tags=entry.tags,
    )


def fire_groups(gateway_id: str, executions: Iterable[Execution], now: datetime) -> list[FireGroup]:
    """The groups among runs recorded together: two or more new scheduled runs due at the same
    instant (the live feed's `schedule_event`, docs/live-feed.md)."""
    by_instant: dict[datetime, list[Execution]] = {}
    for execution in executions:
        if execution.version == 1 and execution.status == "running" and execution.trigger == "scheduled" \
                and execution.scheduled_for is not None:
            by_instant.setdefault(execution.scheduled_for, []).append(execution)
    return [
        FireGroup.start(gateway_id, instant, [e.job_id for e in runs], [t for e in runs for t in e.tags], now,
                        [e.execution_id for e in runs])
        for instant, runs in sorted(by_instant.items()) if len(runs) > 1
    ]


def next_attempt(entry: JobEntry, outcome: Outcome, now: datetime) -> Due:
    """A failed attempt with another to come: due after the job's backoff."""
    execution = outcome.execution
    at = now + timedelta(seconds=outcome.options.backoff_for(execution.attempt + 1))
    return Due(at, 0, entry.job_id, execution.scheduled_for, kind="retry", execution=execution)


def next_queued(entry: JobEntry, now: datetime) -> Due | None:
    """The job is free again: its oldest queued instant (overlap_policy=queue) is due now."""
    if not entry.queued or entry.running:
        return None
    queued = entry.queued.popleft()
    queued.fire_at = now
    queued.kind = "misfire" if queued.kind == "misfire" else "queued"
    return queued
