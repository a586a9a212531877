"""Importing a job file into a gateway: every job decided on together (merge or replace), the
whole file refused if one job is bad, all changes committed in one transaction as one operation."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import gateway_or_new
from domain.errors import ImportFailed, MaxJobsExceeded, SchedulerError, VersionConflict
from domain.gateway import Gateway
from domain.identity import check_job_id
from domain.job import Job

Strategy = Literal["merge", "replace"]
UPCOMING = 3  # fire times shown per job in the answer (its plan)


@dataclass(frozen=True, slots=True)
class ImportJobs:
    """`jobs` in the shape a create accepts, each with its `id` (kept). `plan_token`: the token of
    a dry run; the import is refused if the gateway's jobs changed since. `upcoming`: report each
    job's next fire times (a plan shows them; computing them is most of a large apply's time)."""

    gateway_id: str
    jobs: Sequence[Mapping[str, Any]]
    strategy: Strategy = "merge"
    plan_token: str | None = None
    upcoming: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """What the import does to one job: create, update (with the changed settings), delete, skip."""

    index: int | None  # its place in the file; None for a job replace deletes
    job_id: str
    action: Literal["create", "update", "delete", "skip"]
    reason: str | None = None
    changes: dict[str, dict[str, Any]] | None = None
    next_executions: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportReport:
    steps: tuple[Step, ...]
    plan_token: str  # the gateway's state the steps were decided on

    def count(self, *actions: str) -> int:
        return sum(1 for step in self.steps if step.action in actions)


def plan_token(jobs: Sequence[Job]) -> str:
    """A digest of the gateway's live jobs and their versions: any change to the set or to one
    job's configuration or state changes it."""
    digest = hashlib.blake2b(digest_size=12)
    for job in sorted(jobs, key=lambda j: j.job_id):
        digest.update(f"{job.job_id}:{job.version};".encode())
    return digest.hexdigest()


def _fault(index: int, job_id: Any, error: SchedulerError) -> dict[str, Any]:
    details = error.details if isinstance(error.details, Mapping) else {}
    return {"index": index, "id": job_id, "field": details.get("field", "id"), "code": error.code,
            "reason": details.get("reason", ""), "message": error.message}




class _Import:
    """The decisions of one import, on one Gateway aggregate (all its JobAdded/JobRemoved)."""

    def __init__(self, command: ImportJobs, aggregates: Aggregates, context: CommandContext) -> None:
        self.command, self.aggregates, self.actor = command, aggregates, context.actor
        self.now = aggregates.clock()
        self.gateway: Gateway = gateway_or_new(aggregates, command.gateway_id)
        self.location = self.gateway.location_point
        named = [entry.get("id") for entry in command.jobs if isinstance(entry.get("id"), str)]
        # Every job the import may touch, read at once: the gateway's (live) and the file's (live,
        # deleted or unknown).
        self.known = aggregates.jobs_ever(command.gateway_id, list(dict.fromkeys([*self.gateway.job_ids, *named])))
        self.current = {job_id: job for job_id in self.gateway.job_ids
                        if (job := self.known[job_id]) is not None and not job.deleted}
        self.changed: list[Any] = []
        self.steps: list[Step] = []
        self.faults: list[dict[str, Any]] = []

    def _upcoming(self, job: Job) -> tuple[datetime, ...]:
        if not (self.command.upcoming and job.enabled):
            return ()
        return tuple(job.schedule_for(self.location).next_n(self.now, UPCOMING))

    def decide(self) -> ImportReport:
        token = plan_token(list(self.current.values()))
        if self.command.plan_token is not None and self.command.plan_token != token:
            raise VersionConflict(
                f"The jobs of gateway {self.command.gateway_id} changed since the plan was made; plan again",
                {"reason": "plan_outdated", "plan_token": self.command.plan_token, "current_token": token},
            )
        ids = [entry.get("id") for entry in self.command.jobs]
        if self.command.strategy == "replace":  # first, so a full gateway can be replaced whole
            for job_id in sorted(set(self.current) - set(ids)):
                self._delete(self.current[job_id])
        seen: set[Any] = set()
        for index, entry in enumerate(self.command.jobs):
            job_id = entry.get("id")
            try:
                if job_id in seen:
                    raise VersionConflict(f"Job id {job_id} is given twice in the file",
                                          {"field": "id", "reason": "duplicate in the file"})
                seen.add(job_id)
                self._one(index, check_job_id(job_id), entry)
            except SchedulerError as error:
                self.faults.append(_fault(index, job_id, error))
        if self.faults:
            raise ImportFailed(
                f"{len(self.faults)} of {len(self.command.jobs)} jobs cannot be imported; nothing was imported",
                {"errors": self.faults},
            )
        return ImportReport(tuple(self.steps), token)

    def _one(self, index: int, job_id: str, entry: Mapping[str, Any]) -> None:
        fields = {key: value for key, value in entry.items() if key != "id"}
        existing = self.current.get(job_id)
        if existing is not None:
            if self.command.strategy == "merge":
                self.steps.append(Step(index, job_id, "skip", "exists", None, self._upcoming(existing)))
                return
            changes = existing.reconfigure(fields, actor=self.actor, now=self.now, default_location=self.location)
            upcoming = self._upcoming(existing)
            if changes:
                self.changed.append(existing)
                self.steps.append(Step(index, job_id, "update", None, changes, upcoming))
            else:
                self.steps.append(Step(index, job_id, "skip", "unchanged", None, upcoming))
            return
        if self.known.get(job_id) is not None:
            # docs/decisions.md 22: a deleted job's id is never given again
            raise VersionConflict(f"Job id {job_id} belonged to a job deleted in gateway {self.command.gateway_id}",
                                  {"field": "id", "reason": "deleted"})
        job = Job.create(gateway_id=self.command.gateway_id, job_id=job_id, fields=fields, actor=self.actor,
                         now=self.now, default_location=self.location)
        try:
            self.gateway.add_job(job_id, max_jobs=self.aggregates.max_jobs, now=self.now)
        except MaxJobsExceeded as error:
            raise MaxJobsExceeded(error.message, {"field": "id", "reason": "max jobs exceeded"}) from None
        self.changed.append(job)
        self.steps.append(Step(index, job_id, "create", None, None, self._upcoming(job)))

    def _delete(self, job: Job) -> None:
        job.delete(actor=self.actor, now=self.now)
        self.gateway.remove_job(job.job_id, now=self.now)
        self.changed.append(job)
        self.steps.append(Step(None, job.job_id, "delete"))


def import_jobs(command: ImportJobs, aggregates: Aggregates, context: CommandContext) -> Decision:
    """Every job is validated as a create (or, under replace, an update) would be, all faults
    collected; the gateway and every changed job are then saved together. Nothing to change
    (a file imported twice with merge) hands back no aggregate: no event is recorded."""
    run = _Import(command, aggregates, context)
    report = run.decide()
    changed = ([run.gateway] if run.gateway.pending_events else []) + run.changed
    return Decision(tuple(changed), report=report)
