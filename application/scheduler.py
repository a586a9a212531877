"""The Scheduler application: loads Job and Gateway aggregates and is the one commit point of the
commands (application/commands/); the dispatcher records executions through `record`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from types import SimpleNamespace
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoder, Transcoding

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
    batchable,
    handler_for,
)
from application.batch_commit import execute_batch
from application.group_commit import GroupCommitter, live
from application.repository import ConsistentCopyRepository
from application.saved import CAUSE_FIELDS, Saved, SavedGateways, pending, recorded, stamp  # noqa: F401 - CAUSE_FIELDS: re-exported
from application.transcoder import FastJSONTranscoder
from domain.errors import JobNotFound, VersionConflict
from domain.execution import Execution
from domain.execution_group import ExecutionGroup, group_uuid
from domain.gateway import Gateway
from domain.identity import execution_uuid, gateway_uuid, job_uuid, resource_monitor_uuid
from domain.job import Job
from domain.job_config import JobConfig
from domain.resources import ResourceMonitor

T = TypeVar("T")
# A save that lost a race with another writer (another process: in this one, commands are decided
# one batch at a time, application/group_commit.py) re-runs the command on fresh state after a
# short random pause.
_CONFLICT_RETRIES = 30


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

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON, written and read by msgspec (application/transcoder.py)."""
        if self.env.get("TRANSCODER_TOPIC"):
            return super().construct_transcoder()
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

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
        self.committer: GroupCommitter[tuple[Command, CommandContext], Saved] = GroupCommitter(self.execute_batch)
        self.saved_gateways = SavedGateways()  # as this process last saved them (gateway_to_extend)

    # ---- loading ----------------------------------------------------------------------

    def job_events(self, gateway_id: str, job_id: str) -> list[Any]:
        """Every event of a job, deleted or not, oldest first (snapshots do not hide any)."""
        events = list(self.events.get(job_uuid(gateway_id, job_id)))
        if not events:
            raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
        return events

    def job(self, gateway_id: str, job_id: str) -> Job:
        return live(self.job_ever(gateway_id, job_id), job_id)

    def job_ever(self, gateway_id: str, job_id: str) -> Job | None:
        """The job under this id, deleted or not (a deleted job's id is never given again)."""
        try:
            return self.repository.get(job_uuid(gateway_id, job_id))
        except AggregateNotFoundError:
            return None

    def jobs_ever(self, gateway_id: str, job_ids: Sequence[str]) -> dict[str, Job | None]:
        """`job_ever` of many ids with one read of the log (an import's every job). Rebuilt from
        all their events, not from snapshots or the cache: fresh copies, as `job_ever` hands out."""
        ids = {job_uuid(gateway_id, job_id): job_id for job_id in job_ids}
        events = self._histories(list(ids))
        return {job_id: project_aggregate(None, events[uuid]) if uuid in events else None for uuid, job_id in ids.items()}

    def _histories(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
        """Every event of many aggregates, each one's in order, with one statement (a command on a
        thousand jobs: one round trip each through the repository was most of its time), in the
        order of `aggregate_ids`. Rebuilt from all their events, not from snapshots or the cache:
        fresh copies, as the repository hands out; the save still refuses a decision on a version
        another writer has passed."""
        select = getattr(self.recorder, "select_events_of", None)
        if select is None:  # a store without the batched read (the in-memory one of the unit tests)
            stored: Any = [e for i in aggregate_ids for e in self.recorder.select_events(i)]
        else:
            stored = select(list(aggregate_ids))
        found: dict[UUID, list[Any]] = {}
        for event in stored:
            found.setdefault(event.originator_id, []).append(self.mapper.to_domain_event(event))
        return {i: found[i] for i in aggregate_ids if i in found}

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

    def gateway_to_extend(self, gateway_id: str) -> Gateway | None:
        """The gateway for a decision that records an event on it (a create): the copy this process
        last saved while it has room for one more job, else `gateway` (docs/decisions.md 241)."""
        return self.saved_gateway(gateway_id) or self.gateway(gateway_id)

    def saved_gateway(self, gateway_id: str) -> Gateway | None:
        return self.saved_gateways.copy(gateway_uuid(gateway_id), self.max_jobs)

    def jobs_of(self, gateway_id: str) -> list[tuple[Job, list[Any]]]:
        """Every live job of the gateway with its events, oldest first, read in one query (a bulk
        command decides on a thousand jobs: one round trip each through the repository was most of
        its time). Projected from all their events, as fresh as the repository's copies; the save
        still refuses a decision on a version another writer has passed."""
        gateway = self.gateway(gateway_id)
        if gateway is None or not gateway.job_ids:
            return []
        histories = self._histories([job_uuid(gateway_id, job_id) for job_id in gateway.job_ids])
        found = []
        for events in histories.values():
            job = project_aggregate(None, events)
            if job is not None and not job.deleted:
                found.append((job, events))
        return found

    def execution(self, gateway_id: str, execution_id: str) -> Execution | None:
        try:
            return self.repository.get(execution_uuid(gateway_id, execution_id))
        except AggregateNotFoundError:
            return None

    def execution_group(self, gateway_id: str, group_id: str) -> ExecutionGroup | None:
        try:
            return self.repository.get(group_uuid(gateway_id, group_id))
        except AggregateNotFoundError:
            return None

    def resource_monitor(self, gateway_id: str) -> ResourceMonitor | None:
        try:
            return self.repository.get(resource_monitor_uuid(gateway_id))
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

    def _take_snapshots(self, processing_event: Any) -> None:
        """The library snapshots an aggregate at every multiple of its interval among the events
        saved, each rebuilt from the store: an import's thousand Gateway.JobAdded rebuilt the
        gateway ten times. The last multiple alone serves every later load the same, and it is
        taken of the aggregate just saved, which holds exactly what was recorded (its pending
        events collected by the save): rebuilding it read back and replayed up to a hundred events
        inside the commit point (decision 322). A snapshot at a version past the multiple (more of
        its events in the same save) serves the same. One with pending events left is rebuilt."""
        due: dict[Any, Any] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if interval and event.originator_version % interval == 0:
                due[event.originator_id] = event
        if not due or self.snapshots is None:
            return
        taken, rebuild = [], []
        for aggregate_id, event in due.items():
            aggregate = processing_event.aggregates[aggregate_id]
            if aggregate.pending_events:
                rebuild.append(event)
            else:
                taken.append(getattr(type(aggregate), "Snapshot", type(self).snapshot_class).take(aggregate))
        if taken:
            self.snapshots.put(taken)
        if rebuild:
            super()._take_snapshots(SimpleNamespace(events=rebuild, aggregates=processing_event.aggregates))

    # ---- the commit point ----------------------------------------------------------------

    def execute(self, command: Command, context: CommandContext) -> Saved:
        """The one place commands save. Commands arriving while a batch is saved are committed
        together in the next one (execute_batch); each caller gets its own outcome."""
        handler_for(command)  # not a command: refused here, not in someone else's batch
        if not batchable(command):
            return self._execute_alone(command, context)
        return self.committer.submit((command, context))

    def execute_batch(self, items: Sequence[tuple[Command, CommandContext]]) -> list[Saved | Exception]:
        """The commands decided in order on shared copies, saved in one transaction; each outcome is
        the command's Saved or its own error (application/batch_commit.py)."""
        return execute_batch(self, items)

    def outcome(self, command: Command, context: CommandContext) -> Saved | Exception:
        try:
            return self._execute_alone(command, context)
        except Exception as error:  # noqa: BLE001 - handed to the command's own caller
            return error

    def _execute_alone(self, command: Command, context: CommandContext) -> Saved:
        """The handler decides on freshly loaded aggregates, then every aggregate it changed is saved
        in one transaction, each event carrying the context. A command that names the version it
        read (If-Match) fails with VERSION_CONFLICT when it lost a race; any other re-runs on
        fresh state."""
        handle = handler_for(command)

        def attempt() -> Saved:
            decision = handle(command, self, context)
            stamp(pending(decision.aggregates), context)
            try:
                positions = recorded(self.save(*decision.aggregates)) if decision.aggregates else ()
            except IntegrityError:
                self.saved_gateways.forget()
                raise
            self.saved_gateways.keep(decision.aggregates)
            return Saved(decision.job, positions, decision.execution_id, decision.report)

        if getattr(command, "expected_version", None) is not None:
            try:
                return attempt()
            except IntegrityError:
                raise VersionConflict(f"Job {getattr(command, 'job_id', '')} was changed concurrently", None) from None
        return self._retrying(attempt)

    def plan(self, command: Command, context: CommandContext) -> list[Any]:
        """A dry run: the events `execute` would record now, context included, saving nothing
        (the handler works on copies from the repository, which are then dropped)."""
        return self.preview(command, context)[0]

    def preview(self, command: Command, context: CommandContext) -> tuple[list[Any], Any]:
        """`plan`, with the handler's report (what an import would do to each job)."""
        decision = handler_for(command)(command, self, context)
        events = pending(decision.aggregates)
        stamp(events, context)
        return events, decision.report

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
