"""The dispatcher's in-memory index: each enabled job's next due instant, in a heap."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.actions import Action, parse_action
from domain.job import Job
from domain.options import JobOptions
from domain.schedules import Schedule

# A manual run asked for while no dispatcher led is started when one leads, if asked for within
# this window; older requests are dropped (an execution group skips such a member, saying why).
MANUAL_RUN_WINDOW = timedelta(hours=1)


@dataclass(order=True)
class Due:
    fire_at: datetime
    seq: int
    job_id: str = field(compare=False)
    nominal: datetime | None = field(compare=False, default=None)
    jitter_seconds: float = field(compare=False, default=0.0)
    generation: int = field(compare=False, default=0)
    kind: str = field(compare=False, default="scheduled")  # scheduled | misfire | manual | retry
    execution_id: str = field(compare=False, default="")
    parameters: dict[str, Any] = field(compare=False, default_factory=dict)
    execution: Any = field(compare=False, default=None)  # the Execution aggregate of a retry
    requeued: bool = field(compare=False, default=False)  # pushed back after a failed save
    cause: tuple[str, str | None, str | None] | None = field(compare=False, default=None)  # a manual run's (actor, request id, operation id)

    @classmethod
    def run_requested(cls, job_id: str, event: Any) -> Due:
        """A manual run (Job.RunRequested), with the cause of the request that asked for it."""
        cause = (event.actor, getattr(event, "request_id", None), getattr(event, "operation_id", None))
        return cls(event.timestamp, 0, job_id, None, 0.0, 0, "manual", event.execution_id, dict(event.parameters),
                   cause=cause)


# When a run of a job began, for runs this process carried from before it led (time not kept).
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class JobEntry:
    job_id: str
    name: str
    schedule: Schedule
    action: Action
    options: JobOptions
    enabled: bool
    tags: tuple[str, ...] = ()  # copied onto its executions' events (the live feed's tags filter)
    generation: int = 0
    last_due: datetime | None = None
    # execution id -> when it began here (EARLIEST: began before this process led, time unknown)
    running: dict[str, datetime] = field(default_factory=dict)
    queued: deque[Due] = field(default_factory=deque)

    @classmethod
    def of(cls, job: Job, location: tuple[float, float] | None) -> JobEntry:
        return cls(
            job_id=job.job_id, name=job.config.name, schedule=job.schedule_for(location),
            action=parse_action(job.config.action), options=job.options, enabled=job.enabled,
            tags=tuple(job.config.tags),
        )


class DueIndex:
    def __init__(self, draw: Callable[[], float]) -> None:
        self.entries: dict[str, JobEntry] = {}
        self._heap: list[tuple[datetime, int, Due]] = []
        self._seq = 0
        self._draw = draw  # uniform in [-1, 1], for interval jitter

    def _push(self, due: Due) -> None:
        self._seq += 1
        due.seq = self._seq
        # (instant, seq, due): tuples compare in C; Due's generated __lt__ was most of a push
        heapq.heappush(self._heap, (due.fire_at, due.seq, due))

    def push(self, due: Due) -> None:
        self._push(due)

    def schedule_after(self, entry: JobEntry, after: datetime) -> datetime | None:
        """Queue the job's first fire strictly after `after`; returns its nominal instant."""
        nominal = entry.schedule.next_after(after) if entry.enabled else None
        if nominal is None:
            return None
        fire_at, jitter = nominal, 0.0
        jittered = getattr(entry.schedule, "jittered", None)
        if jittered is not None and getattr(entry.schedule, "jitter_percentage", 0):
            fire_at = jittered(nominal, self._draw())
            jitter = (fire_at - nominal).total_seconds()
        self._push(Due(fire_at, 0, entry.job_id, nominal, jitter, entry.generation))
        return nominal

    def replace(self, entry: JobEntry, after: datetime) -> None:
        """A job's configuration changed: forget its queued fire, compute the next one."""
        old = self.entries.get(entry.job_id)
        if old is not None:
            entry.generation = old.generation + 1
            entry.running, entry.queued, entry.last_due = old.running, old.queued, old.last_due
        self.entries[entry.job_id] = entry
        self.schedule_after(entry, max(after, entry.last_due) if entry.last_due else after)

    def remove(self, job_id: str) -> None:
        entry = self.entries.pop(job_id, None)
        if entry is not None:
            entry.generation += 1

    def pop_due(self, now: datetime, limit: int | None = None) -> list[Due]:
        """The items due by `now`, earliest first; past `limit`, only those of the last instant taken
        (the runs due at one instant are recorded together, as one group): the rest stay for the next call."""
        due: list[Due] = []
        while self._heap and self._heap[0][0] <= now and (
                limit is None or len(due) < limit or (due and self._heap[0][0] == due[-1].fire_at)):
            item = heapq.heappop(self._heap)[2]
            entry = self.entries.get(item.job_id)
            if item.kind in ("scheduled", "misfire") and (entry is None or item.generation != entry.generation):
                continue  # the job changed or went away since this fire was queued
            due.append(item)
        return due

    def next_fire_at(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def manual_runs(self) -> list[Due]:
        """The manual runs waiting here unrecorded (not due yet, or pushed back after a failed
        record); they never queue behind a busy job."""
        return [item for _, _, item in self._heap if item.kind == "manual"]

    def clear(self) -> None:
        self.entries.clear()
        self._heap.clear()

    def running_count(self) -> int:
        return sum(len(e.running) for e in self.entries.values())

