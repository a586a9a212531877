"""What a leader does with the runs in flight that this process is not carrying out (at takeover,
then every few seconds): a run never launched is launched by the leader, a run between attempts
is retried by it, and a launched run is closed as interrupted only once its holder is gone or
its timeout has passed (a paused or cut-off holder may still be running it and record its outcome).
A run it closes that ends its group of runs due at one instant completes the group in the same
transaction; each sweep also completes the known groups whose members others ended
(application/dispatch/fire_groups.py). Also the misfire plan of each job at takeover, from its
durable checkpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.clock import Clock
from application.dispatch.due_index import Due, JobEntry
from application.dispatch.fire_groups import OpenGroups
from application.dispatch.planner import GRACE
from application.dispatch.starter import Run
from application.dispatch.store import DispatchStore, InflightRow
from domain.execution import Execution
from domain.job import Job
from domain.misfires import misfire_plan

_log = logging.getLogger(__name__)
SWEEP_EVERY = 2.0  # seconds between a leader's looks at runs in flight that others left
# A holder with no session this long is dead, not reconnecting after a database restart.
HOLDER_GONE_AFTER = 5.0
# A launched run with no outcome this long after its timeout is closed, whoever holds it.
OVERDUE_MARGIN = timedelta(seconds=5)


@dataclass
class Adopted:
    launch: list[Execution] = field(default_factory=list)  # recorded, never launched: launch now
    retry: list[Execution] = field(default_factory=list)  # between attempts: the next attempt is ours
    closed: list[Execution] = field(default_factory=list)  # closed as interrupted


class Sweeper:
    def __init__(self, app: object, store: DispatchStore, clock: Clock, groups: OpenGroups | None = None) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.groups = groups if groups is not None else OpenGroups(app, store.gateway_id)
        self._absent_since: dict[str, float] = {}

    def sweep(self, live: Collection[UUID], term: int, entries: Mapping[str, JobEntry],
              in_flight: list[InflightRow] | None = None) -> Adopted:
        """Adopt or close the rows in flight of runs not in `live` (this process's own runs);
        `in_flight`: the gateway's rows as read for the whole process, else read here."""

        def timeout_of(job_id: str) -> float:
            entry = entries.get(job_id)
            return entry.options.timeout_seconds if entry else 300.0

        if in_flight is None:
            in_flight = self.store.inflight()
        rows = [r for r in in_flight if r.aggregate_id not in live]
        adopted = Adopted()
        now = self.clock()
        settled = self.groups.settled({r.aggregate_id for r in in_flight}, now)
        if settled:
            try:
                self.store.save(settled, [self.store.fence(term)])
                self.groups.recorded([], settled)
            except IntegrityError:
                pass  # completed by another writer meanwhile: the next sweep reads it so
        if not rows:
            return adopted
        gone = self._gone_holders({r.holder for r in rows})
        stale: list[UUID] = []
        met: list[Execution] = []
        for row in rows:
            try:
                execution: Execution = self.app.repository.get(row.aggregate_id)  # type: ignore[attr-defined]
            except AggregateNotFoundError:
                stale.append(row.aggregate_id)
                continue
            met.append(execution)
            if execution.finished:
                stale.append(row.aggregate_id)
            elif execution.status == "retrying":
                adopted.retry.append(execution)
            elif row.launched_at is None:
                adopted.launch.append(execution)
            elif row.holder in gone:
                execution.interrupt(now=now, reason=f"its dispatcher ({row.holder}) stopped while it ran")
                adopted.closed.append(execution)
            elif now > row.launched_at + timedelta(seconds=timeout_of(execution.job_id)) + OVERDUE_MARGIN:
                execution.interrupt(now=now, reason=f"no outcome from its dispatcher ({row.holder}) after its timeout")
                adopted.closed.append(execution)
        ours = [e.id for e in adopted.launch + adopted.retry]
        finished = [e.id for e in adopted.closed] + stale
        self.groups.met(met)
        ended = [e for e in met if e.finished]  # closed now, or ended by a writer that left its row
        completed = self.groups.completions(ended, now) if ended else []
        if ours or finished:
            self.store.save([*adopted.closed, *completed],
                            self.store.adopt_side(term, relaunch=ours, keep=[], closed=finished))
            self.groups.recorded(ended, completed)
        if adopted.closed:
            _log.warning("closed %d interrupted executions of %s", len(adopted.closed), self.store.gateway_id)
        return adopted

    @staticmethod
    def starts(adopted: Adopted, entries: Mapping[str, JobEntry], now: datetime) -> tuple[list[tuple[datetime, Run]], list[Due]]:
        """What the leader does with what it adopted: launch the never-launched runs now (not
        marked: they are marked as they start), and retry the others after their backoff (it began
        before the takeover, when the attempt failed; waiting it again errs on the job's pace)."""
        armed = []
        for execution in adopted.launch:
            entry = entries.get(execution.job_id)
            armed.append((now, Run(execution, entry, entry.generation if entry else -1, now, marked=False)))
        retries = []
        for execution in adopted.retry:
            entry = entries.get(execution.job_id)
            wait = timedelta(seconds=entry.options.backoff_for(execution.attempt + 1)) if entry else timedelta(0)
            retries.append(Due(now + wait, 0, execution.job_id, execution.scheduled_for, kind="retry", execution=execution))
        return armed, retries

    def _gone_holders(self, holders: Iterable[str]) -> set[str]:
        """Holders with no session at this sweep and at every sweep since the first one that saw
        none (an absence is forgotten once the holder is seen, or has no runs in flight)."""
        holders = set(holders)
        connected = self.store.connected_holders()
        now = time.monotonic()
        self._absent_since = {h: t for h, t in self._absent_since.items() if h in holders}
        gone = set()
        for holder in holders:
            if holder == self.store.holder or holder in connected:
                self._absent_since.pop(holder, None)
                continue
            if now - self._absent_since.setdefault(holder, now) >= HOLDER_GONE_AFTER:
                gone.add(holder)
        return gone


def plan_takeover(
    jobs: Iterable[Job], checkpoints: dict[str, datetime], location: tuple[float, float] | None, now: datetime,
) -> tuple[list[JobEntry], list[tuple[JobEntry, datetime, str]], list[Due], list[tuple[JobEntry, datetime]]]:
    """Each job's entry, and the instants since its checkpoint per its misfire policy: recorded
    missed, run now (late), and where regular fires resume."""
    entries, missed, runs, resume = [], [], [], []
    for job in jobs:
        entry = JobEntry.of(job, location)
        entries.append(entry)
        configured = job.configured_at or job.created_on
        after = max(configured, checkpoints.get(job.job_id, configured))
        entry.last_due = after
        if not entry.enabled:
            continue
        plan = misfire_plan(entry.schedule, entry.options, after, now - GRACE)
        missed.extend((entry, instant, plan.reason) for instant in plan.missed)
        runs.extend(Due(now, 0, entry.job_id, instant, 0.0, entry.generation, "misfire") for instant in plan.run)
        resume.append((entry, plan.resume_after or after))
    return entries, missed, runs, resume
