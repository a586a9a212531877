"""Collects run outcomes from the pool threads and records them in batches, each finished run's
in-flight row deleted in the same transaction. The dispatcher loop flushes it every tick: a
writer thread of its own was measured slower (it competes for the interpreter and the table lock).

A run's end that completes its group of runs due at one instant records the group's completion in
the same transaction (application/dispatch/fire_groups.py). One outcome that cannot be recorded as such (its run was closed meanwhile, e.g. by a takeover)
is reconciled alone and never holds up the others; a database that stays away is visible in
`health()` (readiness and metrics) and the log, and the outcomes wait for it, in order."""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.dispatch.fire_groups import OpenGroups
from application.dispatch.outcomes import Outcome
from application.dispatch.store import DispatchStore

_log = logging.getLogger(__name__)
UNHEALTHY_AFTER = 10.0  # seconds of failing writes before readiness says so
# The dispatch loop records outcomes at most this often (or once this many wait): a transaction
# per loop pass was, with the job feed's query that each commit sets off, most of the CPU per fire
# at a few hundred fires a second. A finished run frees its job at once, without waiting for it.
EVERY, BATCH = 0.1, 500


@dataclass
class Flushed:
    recorded: list[Outcome]
    dropped: list[Outcome]  # outcomes of runs already closed by another writer


@dataclass
class Taken:
    """Outcomes taken for one record: its aggregates and side statements, and what `settle` needs."""

    batch: list[Outcome]
    ended: list[Any]
    completed: list[Any]
    aggregates: list[Any]
    side: list[Any]


class OutcomeWriter:
    def __init__(self, app: Any, groups: OpenGroups | None = None, *, record: Any = None) -> None:
        self.app = app
        self.groups = groups
        # the process's ProcessCommits.record, else the application's without positions (as DispatchStore's)
        self._put = record or self._app_record
        self._queue: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._pending: list[Outcome] = []
        self._ended: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()  # (job id, execution id)
        self.failing_since: float | None = None  # time.monotonic() of the first failed write in a row
        self.failures = 0  # failed writes, in all
        self.reconciled = 0  # outcomes dropped because their run was closed meanwhile
        self._warned_at = 0.0
        self._written_at = float("-inf")  # time.monotonic() of the last flush that wrote

    def put(self, outcome: Outcome) -> None:
        """Thread-safe; called by the threads that ran the actions."""
        if not outcome.will_retry:
            self._ended.put((outcome.job_id, outcome.execution.execution_id))
        self._queue.put(outcome)

    def take_ended(self) -> list[tuple[str, str]]:
        """(job id, execution id) of the runs whose final outcome arrived since the last call,
        recorded or not yet (the dispatch loop's: their jobs are free, decision 291)."""
        ended = []
        while True:
            try:
                ended.append(self._ended.get_nowait())
            except queue.Empty:
                return ended

    @property
    def pending(self) -> int:
        return len(self._pending) + self._queue.qsize()

    def health(self) -> tuple[bool, str]:
        if self.failing_since is None or time.monotonic() - self.failing_since < UNHEALTHY_AFTER:
            return True, f"{self.pending} outcomes pending"
        return False, f"{self.pending} outcomes not recorded for {time.monotonic() - self.failing_since:.0f} s"

    def due(self) -> bool:
        """EVERY seconds have passed since the last write, or BATCH outcomes wait."""
        return time.monotonic() - self._written_at >= EVERY or self.pending >= BATCH

    def flush_due(self) -> Flushed:
        """`flush()` once it is `due()`."""
        return self.flush() if self.due() else Flushed([], [])

    def flush(self) -> Flushed:
        """Record what has arrived. Outcomes whose write failed for a passing reason stay pending
        and go with the next flush."""
        taken = self.take()
        if taken is None:
            return Flushed([], [])
        try:
            self._put(taken.aggregates, side_statements=taken.side)
        except Exception as error:  # noqa: BLE001 - settled below, as its kind says
            return self.settle(taken, error)
        return self.settle(taken, None)

    def take(self) -> Taken | None:
        """What has arrived, as one record (for the caller to commit, with others: the process's
        tick), or None; `settle` it with the record's outcome."""
        while True:
            try:
                self._pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not self._pending:
            return None
        batch, self._pending = self._pending, []
        self._written_at = time.monotonic()
        try:
            return self._taken(batch)
        except Exception:  # noqa: BLE001 - e.g. a group's completion could not be read: they wait, not lost
            self._failed(batch, len(batch))
            return None

    def settle(self, taken: Taken, error: BaseException | None) -> Flushed:
        """The record of `take()` committed (error None) or not: outcomes a passing failure kept
        wait for the next flush; a conflict (a run closed meanwhile) is sorted out one by one."""
        if error is None:
            if self.groups is not None:
                self.groups.recorded(taken.ended, taken.completed)
            self._ok()
            return Flushed(taken.batch, [])
        if isinstance(error, IntegrityError):
            return self._one_by_one(taken.batch)
        self._failed(taken.batch, len(taken.batch))
        return Flushed([], [])

    def _taken(self, batch: list[Outcome], *, with_groups: bool = True) -> Taken:
        ended = [o.execution for o in batch if not o.will_retry]
        completed = []
        if self.groups is not None and with_groups and ended:
            completed = self.groups.completions(ended, max(run.modified_on for run in ended))
        return Taken(batch, ended, completed, [*(o.execution for o in batch), *completed],
                     DispatchStore.finished_side([run.id for run in ended]))

    def _record(self, batch: list[Outcome], *, with_groups: bool = True) -> None:
        taken = self._taken(batch, with_groups=with_groups)
        self._put(taken.aggregates, side_statements=taken.side)
        if self.groups is not None:
            self.groups.recorded(taken.ended, taken.completed)

    def _app_record(self, aggregates: list[Any], **kwargs: Any) -> None:
        self.app.record(aggregates, positions=False, **kwargs)

    def _one_by_one(self, batch: list[Outcome]) -> Flushed:
        flushed = Flushed([], [])
        for i, outcome in enumerate(batch):
            try:
                try:
                    self._record([outcome])
                except IntegrityError:  # its group's completion, recorded by another writer? Then alone.
                    self._record([outcome], with_groups=False)
                flushed.recorded.append(outcome)
            except IntegrityError:
                self._reconcile(outcome)
                flushed.dropped.append(outcome)
            except Exception:  # noqa: BLE001 - as in flush: the rest wait for the next one
                self._failed(batch[i:], len(batch) - i)
                return flushed
        self._ok()
        return flushed

    def _reconcile(self, outcome: Outcome) -> None:
        """Another writer recorded this run's next event first (a takeover closed it): the log
        keeps that record; ours is dropped, and said so."""
        self.reconciled += 1
        execution = outcome.execution
        try:
            stored = self.app.repository.get(execution.id)
            now = f"{stored.status} ({getattr(stored, 'code', '') or 'recorded'})"
        except AggregateNotFoundError:
            now = "not found"
        _log.warning(
            "outcome %s of execution %s not recorded: the run was closed meanwhile; it stays %s",
            execution.status, execution.execution_id, now,
        )

    def _ok(self) -> None:
        if self.failing_since is not None:
            _log.warning("outcomes are recorded again")
        self.failing_since = None

    def _failed(self, rest: list[Outcome], count: int) -> None:
        self._pending = rest + self._pending
        self.failures += 1
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        if now - self._warned_at > 5:
            self._warned_at = now
            _log.warning("recording %d outcomes failed; they wait for the next attempt", count, exc_info=True)
