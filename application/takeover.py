"""What a dispatcher does when it becomes its gateway's leader: close the runs a dead leader
left in flight, then apply each job's misfire policy to the instants missed since its checkpoint."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from application.due_index import GRACE, Due, JobEntry
from application.outcome_writer import INFLIGHT_DEL
from domain.execution import Execution
from domain.identity import execution_id as derive_execution_id
from domain.misfires import misfire_plan

_log = logging.getLogger(__name__)


class Takeover:
    """Mixin of Dispatcher (its state lives there)."""

    app: Any
    gateway_id: str

    def _lead(self) -> None:
        _log.info("dispatcher %s leads", self.gateway_id)
        self._drain_inbox()
        self._recover_interrupted()
        now = self.clock()
        checkpoints = self._checkpoints()
        location = self._location()
        self.index.clear()
        missed: list[Execution] = []
        for job in self.jobs.values():
            entry = JobEntry.of(job, location)
            self.index.entries[job.job_id] = entry
            configured = job.configured_at or job.created_on
            after = max(configured, checkpoints.get(job.job_id, configured))
            entry.last_due = after
            if not entry.enabled:
                continue
            plan = misfire_plan(entry.schedule, entry.options, after, now - GRACE)
            for instant in plan.missed:
                missed.append(self._missed(entry, instant, plan.reason))
            for instant in plan.run:
                self.index.push(Due(now, 0, entry.job_id, instant, 0.0, entry.generation, "misfire"))
            self.index.schedule_after(entry, plan.resume_after)
        if missed:
            self._save(missed)
        for execution_id, due in list(self.pending_runs.items()):
            if not self._exists(execution_id):
                self.index.push(due)
        self.pending_runs.clear()

    def _missed(self, entry: JobEntry, instant: datetime, reason: str) -> Execution:
        return Execution.missed(
            gateway_id=self.gateway_id, job_id=entry.job_id, job_name=entry.name, scheduled_for=instant,
            execution_id=derive_execution_id(entry.job_id, "scheduled", instant), reason=reason, now=self.clock(),
        )

    def _exists(self, execution_id: str) -> bool:
        try:
            self.app.repository.get(Execution.id_for(self.gateway_id, execution_id))
            return True
        except AggregateNotFoundError:
            return False

    def _checkpoints(self) -> dict[str, datetime]:
        with self.app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute("SELECT job_id, last_due FROM dispatch_checkpoints WHERE gateway_id = %s", (self.gateway_id,))
            return {row["job_id"]: row["last_due"] for row in curs.fetchall()}

    def _recover_interrupted(self) -> None:
        """Executions left running by a worker that died are closed as failed (interrupted)."""
        with self.app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute("SELECT execution_aggregate_id FROM dispatch_inflight WHERE gateway_id = %s", (self.gateway_id,))
            ids = [row["execution_aggregate_id"] for row in curs.fetchall()]
        closed: list[Execution] = []
        for aggregate_id in ids:
            try:
                execution: Execution = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                continue
            if not execution.finished:
                execution.interrupt(now=self.clock())
                closed.append(execution)
        self.app.save(*closed, side_statements=[(INFLIGHT_DEL, [(ids,)])])
        if closed:
            _log.warning("closed %d interrupted executions of %s", len(closed), self.gateway_id)

