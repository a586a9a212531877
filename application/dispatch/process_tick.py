"""One thread for the passes of all of a worker process's dispatchers (docs/decisions.md 220-222):
a fleet's process of 50 gateways had 50 dispatch loops, each waking on the tick grid to look at its
own due index, each recording its fires and its outcomes through the process's committer. Here one
thread wakes once per tick for all of them (at the earliest of their next fires, LEAD ahead, on the
grid), and records the fires and outcomes of every gateway of that tick in one transaction; and
one query every SWEEP_EVERY reads the runs in flight of all the gateways it leads.

Each gateway keeps its own leadership: its fires carry its own fence (migration 020), so a
gateway whose term has ended fails only its own record (the combined transaction fails, then each
record is committed alone: ProcessCommits.commit) and steps down, while the others go on."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from application.dispatch.outcome_writer import EVERY as OUTCOMES_EVERY
from application.dispatch.process_commits import ProcessCommits, Record
from application.dispatch.store import InflightRow, StaleTerm, is_stale_term
from application.dispatch.takeover import SWEEP_EVERY

if TYPE_CHECKING:
    from application.dispatch.dispatcher import Dispatcher, Fires
    from application.dispatch.outcome_writer import Taken

_log = logging.getLogger(__name__)

# The tick wakes on this grid (monotonic seconds): the fires due within LEAD of one wake are
# recorded together, and the outcomes arrived since (decision 98).
TICK_GRID = 0.05
STANDBY_WORKERS = 4  # takeovers at once
# The fires one pass records, shared out among its leaders (at least PER_GATEWAY_FIRES each): a
# gateway that fell behind records what it owes over several passes, each committed and launched
# in turn, instead of one transaction of seconds of instants that holds up every other gateway's.
PASS_FIRES, PER_GATEWAY_FIRES = 2000, 50
FAILED_PASS_WAIT = 1.0  # seconds a dispatcher whose pass failed (e.g. the database is away) waits
_INFLIGHT = (
    "SELECT gateway_id, execution_aggregate_id, holder, launched_at FROM dispatch_inflight"
    " WHERE gateway_id = ANY(%s)"
)


def aligned(timeout: float) -> float:
    """A wait of at least `timeout` seconds that ends on the tick grid."""
    now = time.monotonic()
    return math.ceil((now + timeout) / TICK_GRID) * TICK_GRID - now


class ProcessTick:
    """One per DispatchProcess; a Dispatcher given one adds itself when it starts. The tick thread
    does the passes of the dispatchers that lead; the standby thread those of the others (taking a
    lease over reads and records a gateway's state: done there, up to STANDBY_WORKERS at once, it
    holds up neither the leaders' fires nor the other takeovers), and hands each to the tick once it leads."""

    def __init__(self, app: Any, commits: ProcessCommits) -> None:
        self.app, self.commits = app, commits
        self.wake = threading.Event()  # the leaders': job events, outcomes, a stop
        self.standby_wake = threading.Event()  # the standbys': a lease looks takeable
        self._leaders: list[Dispatcher] = []  # the tick thread's (copied on change)
        self._standbys: list[Dispatcher] = []  # the standby thread's
        self._pass = threading.Lock()  # held for a whole pass of the tick: `remove` waits for one
        self._standby_pass = threading.Lock()  # likewise for the standby thread
        self._members = threading.Lock()  # for the two lists (`add` waits for no pass)
        self._retry_at: dict[int, float] = {}  # id(dispatcher) -> time.monotonic() after a failed pass
        self._sweep_at = 0.0
        self._stopping = threading.Event()  # the running threads' (each pair gets its own)
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self.passes, self.pass_seconds, self.longest_pass = 0, 0.0, 0.0  # (tests and benches)

    def add(self, dispatcher: Dispatcher) -> None:
        with self._members:
            self._standbys = [*self._standbys, dispatcher]
            if not self._threads:
                self._stopping = threading.Event()
                self._pool = ThreadPoolExecutor(STANDBY_WORKERS, thread_name_prefix="dispatch-standby")
                self._threads = [
                    threading.Thread(target=self._run, args=(self._stopping,), name="dispatch-tick", daemon=True),
                    threading.Thread(target=self._run_standbys, args=(self._stopping, self._pool),
                                     name="dispatch-standbys", daemon=True)]
                for thread in self._threads:
                    thread.start()
        self.standby_wake.set()

    def remove(self, dispatcher: Dispatcher) -> None:
        """After this returns no pass is in `dispatcher` (the last one out ends the threads)."""
        with self._pass, self._standby_pass, self._members:
            self._leaders = [d for d in self._leaders if d is not dispatcher]
            self._standbys = [d for d in self._standbys if d is not dispatcher]
            self._retry_at.pop(id(dispatcher), None)
            last = not self._leaders and not self._standbys
        if last:
            self.stop()

    def stop(self) -> None:
        with self._members:
            threads, self._threads, pool, self._pool = self._threads, [], self._pool, None
            self._stopping.set()
        self.wake.set()
        self.standby_wake.set()
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        if pool is not None:
            pool.shutdown(wait=False)

    def _move(self, d: Dispatcher, *, leads: bool) -> None:
        with self._members:
            self._leaders = [x for x in self._leaders if x is not d] + ([d] if leads else [])
            self._standbys = [x for x in self._standbys if x is not d] + ([] if leads else [d])
        (self.wake if leads else self.standby_wake).set()

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            with self._pass:
                if stopping.is_set():
                    return
                began = time.monotonic()
                wait = self.run_pass(self._leaders)
                took = time.monotonic() - began
                self.pass_seconds += took
                self.longest_pass = max(self.longest_pass, took)
            if wait > 0:
                self.wake.wait(aligned(wait))
            self.wake.clear()

    def _run_standbys(self, stopping: threading.Event, pool: ThreadPoolExecutor) -> None:
        while not stopping.is_set():
            with self._standby_pass:
                if stopping.is_set():
                    return
                list(pool.map(self._stand_by, self._standbys))
            self.standby_wake.wait(1.0)
            self.standby_wake.clear()

    def _stand_by(self, d: Dispatcher) -> None:
        """A standby's pass: its outcomes (runs of an ended term), and the lease if it may take it."""
        try:
            d._record_outcomes(d.writer.flush_due())
            d.advance()
        except StaleTerm:
            d._step_down("its term ended")
        except Exception:  # noqa: BLE001 - e.g. the database is away: its next pass tries again
            _log.exception("dispatcher %s standby pass failed", d.gateway_id)
        if d.leadership.held:
            self._move(d, leads=True)

    # ---- one pass --------------------------------------------------------------------------

    def run_pass(self, dispatchers: list[Dispatcher]) -> float:
        """Every dispatcher's pass, their records in one transaction; returns the seconds to the next."""
        self.passes += 1
        now = time.monotonic()
        records: list[Record] = []
        settle: list[Callable[[BaseException | None], None]] = []
        leaders: list[Dispatcher] = []
        wait = 1.0
        limit = max(PER_GATEWAY_FIRES, PASS_FIRES // max(1, len(dispatchers)))
        for d in dispatchers:
            if not d.leadership.held:  # it stepped down: the standby thread's from now on
                self._move(d, leads=False)
                continue
            retry_at = self._retry_at.get(id(d), 0.0)
            if retry_at > now:
                wait = min(wait, retry_at - now)
                continue
            try:
                taken = d.writer.take() if d.writer.due() else None
                if taken is not None:
                    records.append((taken.aggregates, taken.side))
                    settle.append(lambda error, d=d, taken=taken: self._outcomes(d, taken, error))
                if d.writer.pending:
                    wait = min(wait, OUTCOMES_EVERY)
                pause = d.advance()
                if pause is not None:
                    wait = min(wait, pause)
                    continue
                leaders.append(d)
                fires = d.plan(d.due(limit))
                if fires is not None:
                    aggregates, side, groups = d.store.fire_record(fires.executions, fires.term, fires.now, fires.launch_at)
                    records.append((aggregates, side))
                    settle.append(lambda error, d=d, fires=fires, groups=groups: self._fired(d, fires, groups, error))
                wait = min(wait, d.next_pass())
            except StaleTerm:
                d._step_down("its term ended")
            except Exception:  # noqa: BLE001 - this gateway's pass is retried; the others go on
                self._failed(d, "tick")
        if records:
            for callback, error in zip(settle, self.commits.commit(records), strict=True):
                callback(error)
        if leaders and now >= self._sweep_at:
            self._sweep_at = now + SWEEP_EVERY
            self._sweep(leaders)
        return max(0.0, wait)

    def _fired(self, d: Dispatcher, fires: Fires, groups: list[Any], error: BaseException | None) -> None:
        try:
            if error is None:
                d.store.opened(fires.executions, groups)
                d.fired(fires, {e.id for e in fires.executions})
            elif is_stale_term(error):
                d._step_down("its term ended")
            elif isinstance(error, IntegrityError):  # another writer recorded one: one by one, as alone
                d.fired(fires, d.store.save_fires(fires.executions, fires.term, fires.now, fires.launch_at))
            else:
                d.unfired(fires)
                self._failed(d, "recording fires", error)
        except StaleTerm:
            d._step_down("its term ended")
        except Exception:  # noqa: BLE001 - as a failed pass
            self._failed(d, "recording fires")

    def _outcomes(self, d: Dispatcher, taken: Taken, error: BaseException | None) -> None:
        try:
            d._record_outcomes(d.writer.settle(taken, error))
        except Exception:  # noqa: BLE001 - as a failed pass
            self._failed(d, "recording outcomes")

    def _sweep(self, leaders: list[Dispatcher]) -> None:
        """One read of the runs in flight of every gateway led here, then each gateway's sweep."""
        try:
            rows: dict[str, list[InflightRow]] = {d.gateway_id: [] for d in leaders}
            with self.app.recorder.datastore.transaction(commit=False) as curs:
                curs.execute(_INFLIGHT, (list(rows),))
                for r in curs.fetchall():
                    rows[r["gateway_id"]].append(InflightRow(r["execution_aggregate_id"], r["holder"], r["launched_at"]))
        except Exception:  # noqa: BLE001 - e.g. the database is away: the next sweep
            _log.warning("the sweep of %d gateways could not read their runs in flight", len(leaders), exc_info=True)
            return
        for d in leaders:
            try:
                d._sweep(rows[d.gateway_id])
            except StaleTerm:
                d._step_down("its term ended")
            except Exception:  # noqa: BLE001 - as a failed pass
                self._failed(d, "sweep")

    def _failed(self, d: Dispatcher, what: str, error: BaseException | None = None) -> None:
        _log.error("dispatcher %s %s failed", d.gateway_id, what, exc_info=error or True)
        self._retry_at[id(d)] = time.monotonic() + FAILED_PASS_WAIT
