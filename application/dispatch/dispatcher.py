"""The dispatcher of one gateway, composed of its parts: it follows the job events (JobFeed), and
while it provably leads (Leadership, a fenced term) it fires each due instant exactly once as the
planner decides, recorded durably before the action runs (DispatchStore), starts each run on time
(Launcher), records outcomes (OutcomeWriter) and adopts or closes runs others left (Sweeper)."""

from __future__ import annotations

import gc
import logging
import random
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.clock import Clock, utc_now
from application.dispatch import planner
from application.dispatch.due_index import EARLIEST, MANUAL_RUN_WINDOW, Due, DueIndex, JobEntry
from application.dispatch.fire_groups import OpenGroups
from application.dispatch.follow_ups import FollowUps
from application.dispatch.job_feed import JobFeed, JobFeedHub
from application.dispatch.leadership import Leadership
from application.dispatch.outcome_writer import Flushed, OutcomeWriter
from application.dispatch.outcomes import Outcome
from application.dispatch.process import DispatchProcess
from application.dispatch.process_tick import PASS_FIRES
from application.dispatch.starter import Run, Starter
from application.dispatch.stats import DispatchStats
from application.dispatch.store import DispatchStore, InflightRow, StaleTerm
from application.dispatch.takeover import SWEEP_EVERY, Sweeper, plan_takeover
from application.executors.ports import Executor
from application.operations import Operations
from application.scheduler import Scheduler
from domain.execution import Execution
from domain.job import Job
from domain.options import JobOptions

_log = logging.getLogger(__name__)

# Fires are recorded up to LEAD ahead and start on time from a timer (the commit is not in front of the action);
# alone, the loop wakes WAKE before the next fire, so a commit carries LEAD - WAKE of instants (shared: the grid).
LEAD, WAKE = timedelta(milliseconds=100), timedelta(milliseconds=60)


@dataclass
class Fires:
    """The fires of one pass, planned and not yet recorded."""

    taken: list[Due]
    runs: list[Run]
    missed: list[Execution]
    launch_at: dict[UUID, datetime]
    now: datetime
    term: int | None

    @property
    def executions(self) -> list[Execution]:
        return [r.execution for r in self.runs] + self.missed


class Dispatcher:
    def __init__(
        self, app: Scheduler, gateway_id: str, executor: Executor, leadership: Leadership, *,
        clock: Clock = utc_now, max_concurrent: int = 5, device_id: str = "",
        on_applied: Any = None, tick: float = 0.25, feeds: JobFeedHub | None = None,
        shared: DispatchProcess | None = None,
    ) -> None:
        self.app, self.gateway_id, self.executor, self.leadership = app, gateway_id, executor, leadership
        self.clock, self.device_id, self.tick = clock, device_id or gateway_id, tick
        self.on_applied = on_applied
        # With a DispatchProcess, its tick thread does this dispatcher's passes and wakes on this event.
        self._wake = shared.ticker.wake if shared else threading.Event()
        self._stopping = threading.Event()
        self._sweep_at = 0.0  # time.monotonic() of its next sweep (the process's tick sweeps for all)
        # shared: what this process's dispatchers share (subscription, lease renewals, commits)
        self.shared = shared
        record = shared.commits.record if shared else None
        if shared and leadership.keeper is None:
            leadership.keeper, leadership.wake = shared.leases, shared.ticker.standby_wake
        self.feed = JobFeed(app, gateway_id, self._wake, shared.feeds if shared else feeds)
        self.index = DueIndex(lambda: random.uniform(-1.0, 1.0))
        self.groups = OpenGroups(app, gateway_id)  # instants' groups, completed with their last run's end
        self.store = DispatchStore(app, leadership.conninfo, gateway_id, leadership.holder, self.groups, record=record)
        self.sweeper = Sweeper(app, self.store, clock, self.groups)
        self.live: dict[UUID, Execution] = {}  # runs this process recorded and has not finished
        self.pending_runs: dict[str, Due] = {}  # manual runs asked for while not leading
        self.writer = OutcomeWriter(app, self.groups, record=record)
        self.stats = DispatchStats()
        self.starter = Starter(
            executor, leadership, self.store, self.writer, self.stats, clock=clock, entries=self.index.entries,
            max_concurrent=max_concurrent, device_id=self.device_id, on_dropped=self._forget, name=gateway_id,
        )
        self.operations = shared.operations if shared else Operations(leadership.conninfo, clock)
        self.follow_ups = FollowUps(app, self.operations, gateway_id)
        self._threads: list[threading.Thread] = []

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # The launcher must wake on time while other threads encode and save: a shorter GIL switch
        # interval (default 5 ms) bounds how long it waits for the interpreter.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        self.feed.catch_up(self._on_job_event)
        if self.on_applied:
            self.on_applied(self.feed.position)
        gc.freeze()  # the long-lived state just loaded need not be traversed by every collection
        self.starter.start()
        if self.shared:  # the process's tick and follow-up threads look after this gateway too
            self.shared.follow_ups.add(self.follow_ups, self.leadership.valid, self.clock)
            self.shared.ticker.add(self)
            return
        targets = [(self._loop, "dispatch"),
                   (lambda: self.follow_ups.loop(self._stopping, self.leadership.valid, self.clock), "operations")]
        for target, name in targets:
            thread = threading.Thread(target=target, name=f"{name}-{self.gateway_id}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, drain_seconds: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self.feed.stop()
        if self.shared:  # after this, no pass of the process's tick is in this dispatcher
            self.shared.ticker.remove(self)
            self.shared.follow_ups.remove(self.follow_ups)
        for thread in self._threads:
            thread.join(timeout=drain_seconds)
        for run in self.starter.clear():  # not begun: unmarked, so the next leader launches them
            self.live.pop(run.execution.id, None)
        # A replica may take over at once; this process's session stays open until its runs have
        # finished, so that the replica leaves them to it (docs/architecture.md, runs in flight).
        self.leadership.release(disconnect=False)
        self.starter.stop()  # the runs begun finish, each within its timeout
        self.writer.flush()
        self.leadership.close()
        self.store.close()
        if not self.shared:
            self.operations.close()

    def running_count(self) -> int:
        return len(self.live)

    # ---- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        """Its own thread (without a DispatchProcess, whose tick does these passes for all its gateways)."""
        while not self._stopping.is_set():
            try:
                self._record_outcomes(self.writer.flush_due())
                wait = self.advance()
                if wait is not None:
                    if wait >= 1.0:  # not leading: until the keeper or a job event wakes it
                        self._wake.wait(wait)
                        self._wake.clear()
                    elif wait > 0:
                        self._stopping.wait(wait)
                    continue
                # At most PASS_FIRES a pass, as the process's tick: a dispatcher that fell behind
                # renews its lease between passes instead of recording seconds of instants in one.
                self._fire(self.due(PASS_FIRES))
                self._sleep()
            except StaleTerm:
                self._step_down("its term ended")
            except Exception:  # noqa: BLE001 - a failed tick (e.g. database down) is retried
                _log.exception("dispatcher %s tick failed", self.gateway_id)
                self._stopping.wait(1.0)

    def advance(self) -> float | None:
        """A pass up to firing: job events applied, leadership taken, kept or given up, the sweep
        when due. None when it leads and may fire now, else how long to wait before the next pass."""
        self._drain()
        if not self.leadership.held:
            if not self._try_lead():
                return 1.0
            self._sweep_at = time.monotonic() + SWEEP_EVERY
        if not self.leadership.keep():
            self._step_down("another dispatcher took over")
            return 0.0
        if not self.leadership.valid():
            return 0.1  # the lease may be lost: act on nothing until renewed
        if self.shared is None and time.monotonic() >= self._sweep_at:
            self._sweep_at = time.monotonic() + SWEEP_EVERY
            self._sweep()
        self._free_ended()
        return None

    def due(self, limit: int | None = None) -> list[Due]:
        """The fires to record now: those due within LEAD (the earliest `limit` of them)."""
        return self.index.pop_due(self.clock() + LEAD, limit)

    def next_pass(self) -> float:
        """Seconds until this leader's next pass is due: its next fire, recorded LEAD ahead."""
        nxt = self.index.next_fire_at()
        return self.tick if nxt is None else max(0.0, min(self.tick, (nxt - LEAD - self.clock()).total_seconds()))

    def _sleep(self) -> None:
        nxt = self.index.next_fire_at()
        timeout = self.tick if nxt is None else max(0.0, min(self.tick, (nxt - WAKE - self.clock()).total_seconds()))
        if timeout > 0:
            self._wake.wait(timeout)
        self._wake.clear()

    def _drain(self, on_event: Any = None) -> None:
        position = self.feed.drain(on_event or self._on_job_event)
        if position is not None and self.on_applied:
            self.on_applied(position)

    def _on_job_event(self, event: Any, live: bool) -> None:
        job = self.feed.apply(event)
        if job is None:
            return
        if isinstance(event, Job.RunRequested):
            due = Due.run_requested(job.job_id, event)
            if self.leadership.held and live:
                self.index.push(due)
            elif self.clock() - event.timestamp < MANUAL_RUN_WINDOW:
                self._keep_pending(due)  # checked when this dispatcher leads
        elif job.deleted:
            self.index.remove(job.job_id)
        elif self.leadership.held:
            self.index.replace(JobEntry.of(job, self._location()), event.timestamp)

    def _keep_pending(self, due: Due) -> None:
        """A follower keeps the manual runs of the last MANUAL_RUN_WINDOW, no older (kept in the
        order they were asked for: the oldest go first)."""
        self.pending_runs[due.execution_id] = due
        horizon = self.clock() - MANUAL_RUN_WINDOW
        while self.pending_runs:  # only the expired ones are looked at (a bulk run adds thousands)
            execution_id, kept = next(iter(self.pending_runs.items()))
            if kept.fire_at >= horizon:
                break
            del self.pending_runs[execution_id]

    def _location(self) -> tuple[float, float] | None:
        gateway = self.app.gateway(self.gateway_id)
        return gateway.location_point if gateway else None

    # ---- leadership ----------------------------------------------------------------------------

    def _try_lead(self) -> bool:
        if not self.leadership.try_acquire():
            return False
        try:
            self._take_over()
        except Exception:
            self._step_down("its takeover failed")  # lead again, from scratch, once the cause is gone
            raise
        return True

    def _take_over(self) -> None:
        # Applied as the catch-up's: a run asked for since this pass's first drain waits with the
        # other pending runs, checked below (pushed into the index, the clear dropped it: decision 290).
        self._drain(lambda event, _live: self._on_job_event(event, False))
        self.index.clear()
        now = self.clock()
        entries, missed, runs, resume = plan_takeover(self.feed.jobs.values(), self.store.checkpoints(), self._location(), now)
        for entry in entries:
            self.index.entries[entry.job_id] = entry
        for execution_id, job_id in self.starter.started():  # runs this process still carries out
            entry = self.index.entries.get(job_id)
            if entry is not None:
                entry.running[execution_id] = EARLIEST
        if missed:
            self.store.save_fires([planner.missed_run(self.gateway_id, entry, instant, reason, now)
                                  for entry, instant, reason in missed], self.leadership.term, now, {})
        for due in runs:
            self.index.push(due)
        for entry, after in resume:
            self.index.schedule_after(entry, after)
        self._sweep()
        for execution_id, due in list(self.pending_runs.items()):
            if now - due.fire_at < MANUAL_RUN_WINDOW and not self.store.exists(execution_id):
                self.index.push(due)
        self.pending_runs.clear()
        gc.freeze()  # the index just built lives as long as the term: out of every full collection's way

    def _step_down(self, why: str) -> None:
        _log.warning("dispatcher %s steps down: %s", self.gateway_id, why)
        self.leadership.release()
        for due in self.index.manual_runs():  # unrecorded: checked again when this one leads
            self._keep_pending(due)
        self.index.clear()
        for run in self.starter.clear():
            self.live.pop(run.execution.id, None)  # the next leader launches them
        for execution in list(self.live.values()):
            if execution.status == "retrying":  # its next attempt was this term's: the leader's now
                self.live.pop(execution.id, None)
                self.starter.forget(execution)

    def _sweep(self, in_flight: list[InflightRow] | None = None) -> None:
        """`in_flight`: this gateway's rows, as the process's tick read them for all its gateways."""
        term = self.leadership.term
        if term is None:
            return
        adopted = self.sweeper.sweep(self.live, term, self.index.entries, in_flight)
        for execution in adopted.launch + adopted.retry:
            self.live[execution.id] = execution
        armed, retries = self.sweeper.starts(adopted, self.index.entries, self.clock())
        self.starter.arm(armed)
        for due in retries:
            self.index.push(due)

    # ---- firing --------------------------------------------------------------------------------

    def _fire(self, dues: Iterable[Due]) -> None:
        fires = self.plan(dues)
        if fires is None:
            return
        try:
            saved = self.store.save_fires(fires.executions, fires.term, fires.now, fires.launch_at)
        except StaleTerm:
            raise
        except Exception:
            self.unfired(fires)
            raise
        self.fired(fires, saved)

    def plan(self, dues: Iterable[Due]) -> Fires | None:
        """The fires of `dues` to record (the process's tick records several gateways' together)."""
        now = self.clock()
        plan = planner.plan_fires(dues, self.index.entries, now)
        for entry, after in plan.reschedule:
            self.index.schedule_after(entry, after)
        for orphan in plan.orphans:  # its job was deleted between two attempts
            orphan.execution.cancel(now=now, reason="its job was deleted before the next attempt")
            self.writer.put(Outcome(orphan.execution, False, JobOptions(), orphan.job_id))
        if not plan:
            return None
        runs = [Run(planner.started_run(self.gateway_id, entry, due, max(now, due.fire_at)), entry, entry.generation, due.fire_at)
                for entry, due in plan.starts]
        for entry, due in plan.retries:
            due.execution.retry(now=max(now, due.fire_at))
            runs.append(Run(due.execution, entry, entry.generation, due.fire_at))
        missed = [planner.missed_run(self.gateway_id, entry, instant, reason, now) for entry, instant, reason in plan.missed]
        launch_at = {r.execution.id: max(now, r.fire_at) for r in runs}  # marked launched as recorded
        return Fires(plan.taken, runs, missed, launch_at, now, self.leadership.term)

    def unfired(self, fires: Fires) -> None:
        """Nothing was recorded (e.g. the database is away): these fires are due again, late,
        at the next tick that can record them, rather than lost."""
        for due in fires.taken:
            due.requeued = True
            self.index.push(due)

    def fired(self, fires: Fires, saved: set[UUID]) -> None:
        """`saved`: the ids recorded of `fires.executions`; their runs start at their instants."""
        armed = []
        for run in fires.runs:
            if run.execution.id in saved:
                self.live[run.execution.id] = run.execution
                armed.append((run.fire_at, run))
        self.stats.fired += sum(1 for r in fires.runs if r.execution.version == 1 and r.execution.id in saved)
        self.stats.missed += sum(1 for e in fires.missed if e.id in saved)
        self.starter.arm(armed)

    # ---- outcomes ------------------------------------------------------------------------------

    def _record_outcomes(self, flushed: Flushed) -> None:
        """What the writer recorded (or found closed by another writer) settles here."""
        for outcome in flushed.recorded:
            self._settle(outcome)
        for outcome in flushed.dropped:
            self.live.pop(outcome.execution.id, None)
            self.starter.forget(outcome.execution)
            entry = self.index.entries.get(outcome.job_id)
            if entry is not None:
                entry.running.pop(outcome.execution.execution_id, None)

    def _forget(self, execution: Execution) -> None:
        """A recorded run this process will not start after all (the starter's thread)."""
        self.live.pop(execution.id, None)

    def _settle(self, outcome: Outcome) -> None:
        execution = outcome.execution
        leading = self.leadership.held
        if not outcome.will_retry:
            self.stats.finished[execution.status] += 1
        if not outcome.will_retry or not leading:
            self.live.pop(execution.id, None)  # a retry while not leading is the leader's (Sweeper)
            self.starter.forget(execution)
        entry = self.index.entries.get(outcome.job_id)
        if entry is not None and outcome.will_retry:
            self.index.push(planner.next_attempt(entry, outcome, self.clock()))

    def _free_ended(self) -> None:
        """The runs whose final outcome is known here no longer hold their job for the overlap
        decision, recorded or not yet (the writer flushes every 0.1 s, not at all while the
        database is away); a queued instant starts. Each pass of both loops does this before it
        plans (decision 291)."""
        now = self.clock()
        for job_id, execution_id in self.writer.take_ended():
            entry = self.index.entries.get(job_id)
            if entry is None:
                continue
            entry.running.pop(execution_id, None)
            queued = planner.next_queued(entry, now)
            if queued is not None:
                self.index.push(queued)
