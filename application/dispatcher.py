"""The dispatcher of one gateway: follows the job events, and while it leads, fires each due
instant exactly once (recorded durably before the action runs), applying misfire, overlap,
timeout, retry and concurrency policies."""

from __future__ import annotations

import gc
import logging
import queue
import random
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.projection import ApplicationSubscription

from application.clock import Clock, utc_now
from application.dispatch_stats import DispatchStats
from application.due_index import Due, DueIndex, JobEntry
from application.executors.ports import Executor
from application.job_feed import JobFeed
from application.launcher import Launcher
from application.leadership import Leadership
from application.outcome_writer import OutcomeWriter
from application.outcomes import Outcome, run_action
from application.scheduler import Scheduler
from application.takeover import Takeover
from domain.execution import Execution
from domain.identity import execution_id as derive_execution_id
from domain.job import Job

_log = logging.getLogger(__name__)

# Fires are recorded up to LEAD ahead of their instant and their actions start on time from a
# timer, so the commit is not in front of the action.
LEAD = timedelta(milliseconds=100)
# One statement per batch, whatever its size (arrays, not one row per statement).
_INFLIGHT_ADD = "INSERT INTO dispatch_inflight SELECT unnest(%s::uuid[]), %s, %s ON CONFLICT DO NOTHING"
_CHECKPOINT = (
    "INSERT INTO dispatch_checkpoints SELECT %s, unnest(%s::text[]), unnest(%s::timestamptz[])"
    " ON CONFLICT (gateway_id, job_id)"
    " DO UPDATE SET last_due = greatest(dispatch_checkpoints.last_due, EXCLUDED.last_due)"
)


class Dispatcher(JobFeed, Takeover):
    def __init__(
        self, app: Scheduler, gateway_id: str, executor: Executor, leadership: Leadership, *,
        clock: Clock = utc_now, max_concurrent: int = 5, device_id: str = "",
        on_applied: Callable[[int], None] | None = None, tick: float = 0.25,
    ) -> None:
        self.app, self.gateway_id, self.executor, self.leadership = app, gateway_id, executor, leadership
        self.clock, self.device_id, self.tick = clock, device_id or gateway_id, tick
        self.on_applied = on_applied
        self.index = DueIndex(lambda: random.uniform(-1.0, 1.0))
        self.jobs: dict[UUID, Job] = {}
        self.pending_runs: dict[str, Due] = {}
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix=f"run-{gateway_id}")
        self._position = 0
        self._launcher = Launcher(clock, self._launch, gateway_id)
        self._writer = OutcomeWriter(app)
        self._threads: list[threading.Thread] = []
        self._subscription: ApplicationSubscription[Any] | None = None
        self.stats = DispatchStats()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # The launcher must wake on time while other threads encode and save: a shorter GIL switch
        # interval (default 5 ms) bounds how long it waits for the interpreter.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        self._catch_up()
        gc.freeze()  # the long-lived state just loaded need not be traversed by every collection
        self._launcher.start()
        for target, name in ((self._follow, "follow"), (self._loop, "dispatch")):
            thread = threading.Thread(target=target, name=f"{name}-{self.gateway_id}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, drain_seconds: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._launcher.stop()
        if self._subscription is not None:
            self._subscription.stop()
        for thread in self._threads:
            thread.join(timeout=drain_seconds)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._writer.flush()
        self.leadership.release()

    def running_count(self) -> int:
        return self.index.running_count()

    # ---- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        last_check = self.clock()
        while not self._stopping.is_set():
            try:
                if not self.leadership.held:
                    if not self.leadership.try_acquire():
                        self._drain_inbox()
                        self._wake.wait(1.0)
                        self._wake.clear()
                        continue
                    try:
                        self._lead()
                    except Exception:
                        self.leadership.release()  # lead again, from scratch, once the cause is gone
                        raise
                now = self.clock()
                if now - last_check > timedelta(seconds=2):
                    last_check = now
                    if not self.leadership.still_held():
                        _log.warning("dispatcher %s lost leadership", self.gateway_id)
                        self.index.clear()
                        continue
                self._drain_inbox()
                self._fire(self.index.pop_due(self.clock() + LEAD))
                for outcome in self._writer.flush():
                    self._settle(outcome)
                self._sleep()
            except Exception:  # noqa: BLE001 - a failed tick (e.g. database down) is retried
                _log.exception("dispatcher %s tick failed", self.gateway_id)
                self._stopping.wait(1.0)

    def _sleep(self) -> None:
        nxt = self.index.next_fire_at()
        timeout = self.tick if nxt is None else max(0.0, min(self.tick, (nxt - LEAD - self.clock()).total_seconds()))
        if timeout > 0:
            self._wake.wait(timeout)
        self._wake.clear()

    def _drain_inbox(self) -> None:
        while True:
            try:
                kind, item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if kind == "event":
                event, position = item
                self._apply(event, live=True)
                self._position = position
                if self.on_applied:
                    self.on_applied(position)


    # ---- firing --------------------------------------------------------------------------------

    def _fire(self, dues: Iterable[Due]) -> None:
        starts: list[tuple[Execution, JobEntry, datetime]] = []
        missed: list[Execution] = []
        retries: list[tuple[Execution, JobEntry, datetime]] = []
        now = self.clock()
        taken: list[Due] = []  # the dues this batch records (queued ones wait in their job's queue)
        for due in dues:
            entry = self.index.entries.get(due.job_id)
            if entry is None:
                continue
            if due.kind == "retry":
                due.execution.retry(now=max(now, due.fire_at))
                retries.append((due.execution, entry, due.fire_at))
                taken.append(due)
                continue
            if due.kind in ("scheduled", "misfire", "queued") and due.nominal is not None:
                entry.last_due = max(entry.last_due or due.nominal, due.nominal)
                if due.kind == "scheduled" and not due.requeued:
                    self.index.schedule_after(entry, due.nominal)
                busy = entry.running or (entry.queued and due.kind != "queued")  # keep queued runs in order
                if busy and entry.options.overlap_policy != "allow":
                    if entry.options.overlap_policy == "queue":
                        entry.queued.append(due)
                    else:
                        missed.append(self._missed(entry, due.nominal, "skipped: the previous run was still running"))
                        taken.append(due)
                    continue
            starts.append((self._start(entry, due, max(now, due.fire_at)), entry, due.fire_at))
            taken.append(due)
        executions = [e for e, _, _ in starts] + [e for e, _, _ in retries]
        if not executions and not missed:
            return
        try:
            saved = self._save(executions + missed)
        except Exception:
            # Nothing was recorded (e.g. the database is away): these fires are due again, late,
            # at the next tick that can record them, rather than lost.
            for due in taken:
                due.requeued = True
                self.index.push(due)
            raise
        armed = []
        for execution, entry, fire_at in starts + retries:
            if execution.id in saved:
                entry.running.add(execution.execution_id)
                armed.append((fire_at, (execution, entry, entry.generation, fire_at)))
        self.stats.fired += sum(1 for e, _, _ in starts if e.id in saved)
        self.stats.missed += sum(1 for e in missed if e.id in saved)
        self._launcher.arm(armed)

    def _launch(self, run: tuple[Execution, JobEntry, int, datetime]) -> None:
        """At the run's instant (launcher thread). A run whose job was disabled, deleted or changed
        since it was recorded does not start; it is closed as cancelled."""
        execution, entry, generation, fire_at = run
        current = self.index.entries.get(entry.job_id)
        now = self.clock()
        if execution.trigger != "manual" and (current is None or current.generation != generation):
            execution.cancel(now=now)
            entry.running.discard(execution.execution_id)
            self.stats.cancelled += 1
            self._writer.put(Outcome(execution, False, entry.options, entry.job_id))
        else:
            self.stats.launched(max(0.0, (now - fire_at).total_seconds()))
            self._pool.submit(self._run, execution, entry)

    def _start(self, entry: JobEntry, due: Due, now: datetime) -> Execution:
        trigger = {"scheduled": "scheduled", "queued": "scheduled", "misfire": "misfire"}.get(due.kind, "manual")
        execution_id = due.execution_id or derive_execution_id(entry.job_id, "scheduled", due.nominal or now)
        return Execution.start(
            gateway_id=self.gateway_id, job_id=entry.job_id, execution_id=execution_id, job_name=entry.name,
            trigger=trigger, scheduled_for=due.nominal, now=now, jitter_seconds=due.jitter_seconds,
            parameters=due.parameters, max_attempts=entry.options.max_attempts,
        )

    def _side(self, executions: list[Execution]) -> list[Any]:
        """What commits with these executions: new runs are in flight; each job's checkpoint moves
        to the latest instant fired or recorded missed."""
        new = [e for e in executions if e.version == 1]
        inflight = [e.id for e in new if e.status == "running"]
        due: dict[str, datetime] = {}
        for e in new:
            if e.scheduled_for is not None and (e.status == "missed" or e.trigger in ("scheduled", "misfire")):
                due[e.job_id] = max(due.get(e.job_id, e.scheduled_for), e.scheduled_for)
        side: list[Any] = []
        if inflight:
            side.append((_INFLIGHT_ADD, [(inflight, self.gateway_id, self.clock())]))
        if due:
            side.append((_CHECKPOINT, [(self.gateway_id, list(due), list(due.values()))]))
        return side

    def _save(self, executions: list[Execution]) -> set[UUID]:
        """Save in one transaction; if another writer got there first (a duplicate fire), save
        one by one so only the duplicates are dropped. Returns the ids saved."""
        try:
            self.app.record(executions, side_statements=self._side(executions))
            return {e.id for e in executions}
        except IntegrityError:
            saved: set[UUID] = set()
            for execution in executions:
                try:
                    self.app.record([execution], side_statements=self._side([execution]))
                    saved.add(execution.id)
                except IntegrityError:
                    _log.info("execution %s already recorded elsewhere; not firing it", execution.execution_id)
            return saved

    def _run(self, execution: Execution, entry: JobEntry) -> None:
        outcome = run_action(
            self.executor, execution, entry.action, entry.options, clock=self.clock, device_id=self.device_id,
            started_at=self.clock(),
        )
        if not outcome.will_retry:
            # Free the job at once: the next instant must not look like an overlap while this
            # outcome waits to be recorded.
            entry.running.discard(execution.execution_id)
        self._writer.put(outcome)

    # ---- outcomes ------------------------------------------------------------------------------

    def _settle(self, outcome: Outcome) -> None:
        if not outcome.will_retry:
            self.stats.finished[outcome.execution.status] += 1
        entry = self.index.entries.get(outcome.job_id)
        if entry is None:
            return
        execution = outcome.execution
        if outcome.will_retry:
            at = self.clock() + timedelta(seconds=outcome.options.backoff_for(execution.attempt + 1))
            self.index.push(Due(at, 0, entry.job_id, execution.scheduled_for, kind="retry", execution=execution))
            return
        entry.running.discard(execution.execution_id)
        if entry.queued and not entry.running:
            queued = entry.queued.popleft()
            queued.fire_at = self.clock()
            queued.kind = "misfire" if queued.kind == "misfire" else "queued"
            self.index.push(queued)
