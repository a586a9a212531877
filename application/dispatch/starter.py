"""Starts recorded runs: at their instant (the Launcher's thread), only while the lease provably
holds, only with a pool thread free to start it at once, and only once it is durably marked
launched, so that a takeover knows which runs may have begun. The dispatcher reserves a pool
thread for a run when it records it, and the mark commits with the fire; a run recorded without
one waits for a thread and is marked when it gets one. A run that must not start (its job changed,
it is too late under `misfire_policy=skip`, an earlier run still runs) is cancelled."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.clock import Clock
from application.dispatch.due_index import JobEntry
from application.dispatch.launcher import Launcher
from application.dispatch.leadership import Leadership
from application.dispatch.outcome_writer import OutcomeWriter
from application.dispatch.outcomes import Outcome, run_action
from application.dispatch.planner import GRACE, OVERLAP_SKIPPED
from application.dispatch.stats import DispatchStats
from application.dispatch.store import DispatchStore, StaleTerm
from application.executors.ports import Executor
from domain.execution import Execution
from domain.options import JobOptions

_log = logging.getLogger(__name__)
RETRY_MARK = timedelta(milliseconds=100)  # a launch whose mark failed is tried again after this


@dataclass
class Run:
    """A recorded run waiting for its instant."""

    execution: Execution
    entry: JobEntry | None
    generation: int
    fire_at: datetime
    reserved: bool = False  # a pool thread is held for it and it was marked launched when recorded


class Starter:
    def __init__(
        self, executor: Executor, leadership: Leadership, store: DispatchStore, writer: OutcomeWriter,
        stats: DispatchStats, *, clock: Clock, entries: Mapping[str, JobEntry], max_concurrent: int,
        device_id: str, on_dropped: Callable[[Execution], None], name: str,
    ) -> None:
        self.executor, self.leadership, self.store, self.writer, self.stats = executor, leadership, store, writer, stats
        self.clock, self.entries, self.device_id, self.on_dropped = clock, entries, device_id, on_dropped
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix=f"run-{name}")
        self._launcher = Launcher(clock, self._launch, name)
        self._lock = threading.Lock()
        self._free_slots = max_concurrent
        self._waiting: list[Run] = []  # due, waiting for a free pool thread (not started)
        self._started: dict[str, str] = {}  # execution id -> job id of the runs the pool carries out

    def start(self) -> None:
        self._launcher.start()

    def stop(self) -> None:
        self._launcher.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def arm(self, items: list[tuple[datetime, Run]]) -> None:
        self._launcher.arm(items)

    def reserve(self, n: int) -> int:
        """Hold pool threads for up to `n` runs about to be recorded; returns how many."""
        with self._lock:
            k = min(self._free_slots, n)
            self._free_slots -= k
            return k

    def release(self, n: int) -> None:
        self._give_back_slots(n)

    def clear(self) -> list[Run]:
        """Forget every run not started yet (leadership ended); returns them. Those marked when
        recorded are unmarked, so that the next leader launches them."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        runs = [run for run in self._launcher.clear() if run is not None] + waiting
        self._unmark([run for run in runs if run.reserved])
        return runs

    def _unmark(self, runs: list[Run]) -> None:
        if runs:
            self.store.unmark([run.execution.id for run in runs])
            for run in runs:
                run.reserved = False
            self._give_back_slots(len(runs))

    def started(self) -> list[tuple[str, str]]:
        """(execution id, job id) of the runs this process carries out, between attempts included."""
        return list(self._started.items())

    def forget(self, execution: Execution) -> None:
        self._started.pop(execution.execution_id, None)

    # ---- the launcher's thread ---------------------------------------------------------------

    def _launch(self, runs: list[Run | None]) -> None:
        """Due runs (and `None`: a pool thread became free) -> the runs that start now, in order."""
        term = self.leadership.term
        due = [run for run in runs if run is not None]
        if term is None:
            dropped = self.clear() + due
            self._unmark([run for run in due if run.reserved])
            for run in dropped:
                self.on_dropped(run.execution)
            return
        if not self.leadership.valid():
            self._launcher.arm([(self.clock() + RETRY_MARK, run) for run in due])
            return
        now = self.clock()
        with self._lock:
            candidates, self._waiting = self._waiting + due, []
        ready: list[Run] = []
        unreserved: list[Run] = []
        for run in candidates:
            reason = self._must_not_start(run, now)
            if reason:
                self._cancel(run, reason, now)
            elif run.reserved:
                ready.append(run)
            else:
                unreserved.append(run)
        ready += self._mark_late(unreserved, term, now)
        for run in ready:
            self.stats.launched(max(0.0, (now - run.fire_at).total_seconds()))
            self._started[run.execution.execution_id] = run.execution.job_id
            if run.entry is not None:
                run.entry.running.add(run.execution.execution_id)
            self._pool.submit(self._run, run.execution, run.entry)

    def _mark_late(self, runs: list[Run], term: int, now: datetime) -> list[Run]:
        """Runs recorded without a pool thread: those that get one now, once marked launched."""
        n = self.reserve(len(runs))
        go = runs[:n]
        with self._lock:
            self._waiting = runs[n:] + self._waiting
        if not go:
            return []
        try:
            marked = self.store.mark_launched([r.execution.id for r in go], term)
        except StaleTerm:
            marked = set()
        except Exception:  # noqa: BLE001 - the database is away: try again while the lease holds
            _log.warning("marking %d runs launched failed; trying again", len(go), exc_info=True)
            self._give_back_slots(len(go))
            self._launcher.arm([(self.clock() + RETRY_MARK, run) for run in go])
            return []
        self._give_back_slots(sum(1 for run in go if run.execution.id not in marked))
        for run in go:
            if run.execution.id not in marked:  # taken over meanwhile: the new leader launches it
                self.on_dropped(run.execution)
        return [run for run in go if run.execution.id in marked]

    def _must_not_start(self, run: Run, now: datetime) -> str:
        execution, current = run.execution, self.entries.get(run.execution.job_id)
        if execution.trigger == "manual":
            return ""
        if current is None or current.generation != run.generation:
            return "the job was disabled or changed before this run began"
        if current.running - {execution.execution_id} and current.options.overlap_policy == "skip":
            return OVERLAP_SKIPPED  # recorded while an earlier run waited for its launch (outage, busy pool)
        if execution.trigger == "scheduled" and execution.scheduled_for and current.options.misfire_policy == "skip":
            late = now - execution.scheduled_for - timedelta(seconds=execution.jitter_seconds)
            if late > GRACE:
                return f"not started: {late.total_seconds():.1f} s late (misfire_policy=skip)"
        return ""

    def _cancel(self, run: Run, reason: str, now: datetime) -> None:
        if run.reserved:
            run.reserved = False
            self._give_back_slots(1)
        run.execution.cancel(now=now, reason=reason)
        self.stats.cancelled += 1
        options = run.entry.options if run.entry else JobOptions()
        self.writer.put(Outcome(run.execution, False, options, run.execution.job_id))

    def _give_back_slots(self, n: int) -> None:
        """Pool threads became free: runs waiting for one go with the launcher's next batch."""
        if n <= 0:
            return
        with self._lock:
            self._free_slots += n
            waiting = bool(self._waiting)
        if waiting:
            self._launcher.arm([(self.clock(), None)])

    # ---- a pool thread -----------------------------------------------------------------------

    def _run(self, execution: Execution, entry: JobEntry | None) -> None:
        try:
            if entry is None:
                execution.cancel(now=self.clock(), reason="its job was deleted before this run began")
                self.writer.put(Outcome(execution, False, JobOptions(), execution.job_id))
                return
            outcome = run_action(
                self.executor, execution, entry.action, entry.options, clock=self.clock, device_id=self.device_id,
                started_at=self.clock(),
            )
            if not outcome.will_retry:
                # Free the job at once: the next instant must not look like an overlap while this
                # outcome waits to be recorded.
                entry.running.discard(execution.execution_id)
                self._started.pop(execution.execution_id, None)
            self.writer.put(outcome)
        finally:
            self._give_back_slots(1)

