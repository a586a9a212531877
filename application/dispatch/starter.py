"""Starts recorded runs: at their instant (the Launcher's thread), only while the lease provably
holds, and within `max_concurrent` at a time. A run is marked launched durably when it is recorded
(the mark commits with the fire), so that a takeover knows it may have begun; one that has to wait
for a free pool thread is unmarked (a takeover then launches it rather than calling it
interrupted) and marked again, fenced, before it starts. A run that must not start (its job changed, it
is too late under `misfire_policy=skip`, an earlier run of its job still runs) is cancelled."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.clock import Clock
from application.dispatch.due_index import JobEntry
from application.dispatch.launcher import Launcher, Workers
from application.dispatch.leadership import Leadership
from application.dispatch.outcome_writer import OutcomeWriter
from application.dispatch.outcomes import Outcome, run_action
from application.dispatch.planner import GRACE, overlap_reason
from application.dispatch.stats import DispatchStats
from application.dispatch.store import DispatchStore, StaleTerm
from application.executors.ports import Executor
from domain.execution import Execution
from domain.options import JobOptions

_log = logging.getLogger(__name__)
RETRY_MARK = timedelta(milliseconds=100)  # a launch whose mark failed is tried again after this
# Pool threads freed within this long go to waiting runs together: one mark for several.
GATHER = timedelta(milliseconds=2)


@dataclass
class Run:
    """A recorded run waiting for its instant, then (if the pool is busy) for a thread."""

    execution: Execution
    entry: JobEntry | None
    generation: int
    fire_at: datetime
    marked: bool = True  # its in-flight row says launched (a takeover would not launch it again)


class Starter:
    def __init__(
        self, executor: Executor, leadership: Leadership, store: DispatchStore, writer: OutcomeWriter,
        stats: DispatchStats, *, clock: Clock, entries: Mapping[str, JobEntry], max_concurrent: int,
        device_id: str, on_dropped: Callable[[Execution], None], name: str,
    ) -> None:
        self.executor, self.leadership, self.store, self.writer, self.stats = executor, leadership, store, writer, stats
        self.clock, self.entries, self.device_id, self.on_dropped = clock, entries, device_id, on_dropped
        self._pool = Workers(max_concurrent, f"run-{name}")
        self._launcher = Launcher(clock, self._launch, name)
        self._lock = threading.Lock()
        self._free_slots = max_concurrent
        self._waiting: deque[Run] = deque()  # due, waiting for a free pool thread (not started), in order
        self._started: dict[str, str] = {}  # execution id -> job id of the runs the pool carries out

    def start(self) -> None:
        self._launcher.start()

    def stop(self) -> None:
        self._launcher.stop()
        self._pool.shutdown()  # what was submitted is marked launched: it runs

    def arm(self, items: list[tuple[datetime, Run]]) -> None:
        self._launcher.arm(items)

    def clear(self) -> list[Run]:
        """Forget every run not started yet (leadership ended); returns them, unmarked so that
        the next leader launches them."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
        runs = [run for run in self._launcher.clear() if run is not None] + waiting
        self._unmark([run for run in runs if run.marked])
        return runs

    def started(self) -> list[tuple[str, str]]:
        """(execution id, job id) of the runs this process carries out, between attempts included."""
        return list(self._started.items())

    def forget(self, execution: Execution) -> None:
        self._started.pop(execution.execution_id, None)

    # ---- the launcher's thread ---------------------------------------------------------------

    def _launch(self, runs: list[Run | None]) -> None:
        """Due runs (and `None`: a pool thread became free, or a wait grew long) -> the runs that
        start now, in order; the others wait for a thread. Its work grows with the runs due and
        started, not with those waiting: a waiting run is looked at again only when a thread is
        free for it (every waiting run looked at on each freed thread made a pool that fell behind
        fall further behind)."""
        term = self.leadership.term
        due = [run for run in runs if run is not None]
        if term is None:
            others = self.clear()  # unmarked there; the due ones here
            self._unmark([run for run in due if run.marked])
            for run in {id(r): r for r in others + due}.values():
                self.on_dropped(run.execution)
            return
        if not self.leadership.valid():
            self._launcher.arm([(self.clock() + RETRY_MARK, run) for run in due])
            return
        now = self.clock()
        cancel: list[tuple[Run, str]] = []
        start: list[Run] = []
        with self._lock:
            self._waiting.extend(due)  # after those waiting already: in order
            while self._waiting and len(start) < self._free_slots:
                run = self._waiting.popleft()
                reason = self._must_not_start(run, now)
                if reason:
                    cancel.append((run, reason))
                else:
                    start.append(run)
            self._free_slots -= len(start)
            taken = {id(run) for run in start} | {id(run) for run, _ in cancel}
        for run, reason in cancel:
            self._cancel(run, reason, now)
        fresh_waiting = [run for run in due if run.marked and id(run) not in taken]
        start, unstarted = self._marked(start, term)
        self._unmark(fresh_waiting)  # newly waiting: not begun, a takeover would launch them
        with self._lock:
            self._waiting.extendleft(reversed(unstarted))
        for run in start:
            self.stats.launched(max(0.0, (now - run.fire_at).total_seconds()))
            self._started[run.execution.execution_id] = run.execution.job_id
            if run.entry is not None:
                run.entry.running[run.execution.execution_id] = now
            self._pool.submit(self._run, run.execution, run.entry)

    def _marked(self, runs: list[Run], term: int) -> tuple[list[Run], list[Run]]:
        """Mark the runs that lost their mark (adopted, or unmarked after a long wait); returns the
        runs that may start and those that wait (the database is away). Slots of the rest are
        given back: runs taken over meanwhile are dropped."""
        need = [run for run in runs if not run.marked]
        if not need:
            return runs, []
        try:
            marked = self.store.mark_launched([r.execution.id for r in need], term)
        except StaleTerm:
            marked = set()
        except Exception:  # noqa: BLE001 - the database is away: they wait while the lease holds
            _log.warning("marking %d runs launched failed; trying again", len(need), exc_info=True)
            self._give_back_slots(len(need))
            self._launcher.arm([(self.clock() + RETRY_MARK, None)])
            return [run for run in runs if run.marked], need
        lost = [run for run in need if run.execution.id not in marked]
        self._give_back_slots(len(lost))
        for run in lost:  # taken over meanwhile: the new leader launches it
            self.on_dropped(run.execution)
        for run in need:
            run.marked = run.execution.id in marked
        return [run for run in runs if run.marked], []

    def _unmark(self, runs: list[Run]) -> None:
        if runs:
            self.store.unmark([run.execution.id for run in runs])
            for run in runs:
                run.marked = False

    def _must_not_start(self, run: Run, now: datetime) -> str:
        execution, current = run.execution, self.entries.get(run.execution.job_id)
        if execution.trigger == "manual":
            return ""
        if current is None or current.generation != run.generation:
            return "the job was disabled or changed before this run began"
        if current.running.keys() - {execution.execution_id} and current.options.overlap_policy == "skip":
            # recorded while an earlier run waited for its launch (outage, busy pool)
            return overlap_reason(current, execution.scheduled_for or now, but=execution.execution_id)
        if execution.trigger == "scheduled" and execution.scheduled_for and current.options.misfire_policy == "skip":
            late = now - execution.scheduled_for - timedelta(seconds=execution.jitter_seconds)
            if late > GRACE:
                return f"not started: {late.total_seconds():.1f} s late (misfire_policy=skip)"
        return ""

    def _cancel(self, run: Run, reason: str, now: datetime) -> None:
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
            self._launcher.arm([(self.clock() + GATHER, None)])

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
                entry.running.pop(execution.execution_id, None)
                self._started.pop(execution.execution_id, None)
            self.writer.put(outcome)
        finally:
            self._give_back_slots(1)

