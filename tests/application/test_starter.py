"""The starter with fakes for the store, the lease and the clock: runs start within the pool's
size; a run that has to wait for a thread loses its launch mark (it has not begun) and is marked
again before it starts; nothing starts without a provable lease; a run taken over is dropped."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

from application.dispatch.due_index import JobEntry
from application.dispatch.outcome_writer import OutcomeWriter
from application.dispatch.starter import Run, Starter
from application.dispatch.stats import DispatchStats
from application.executors.log import ExecutionLog
from application.executors.ports import ExecutionResult
from domain.actions import parse_action
from domain.execution import Execution
from domain.options import JobOptions
from domain.schedules import parse_schedule

T0 = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


class FakeLease:
    def __init__(self) -> None:
        self.term: int | None = 7
        self.is_valid = True

    def valid(self) -> bool:
        return self.is_valid


class FakeStore:
    def __init__(self) -> None:
        self.marked: list[uuid.UUID] = []
        self.unmarked: list[uuid.UUID] = []
        self.taken_over: set[uuid.UUID] = set()

    def mark_launched(self, ids, term):
        assert term == 7
        ok = {i for i in ids if i not in self.taken_over}
        self.marked += list(ok)
        return ok

    def unmark(self, ids):
        self.unmarked += list(ids)


class BlockingExecutor:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []

    def execute(self, action, ctx):
        self.started.append(ctx.execution_id)
        self.release.wait(5)
        return ExecutionResult.success("ok", ExecutionLog())


def _entry() -> JobEntry:
    return JobEntry(job_id="job_a", name="a", schedule=parse_schedule("interval", {"interval_seconds": 60}, anchor=T0),
                    action=parse_action({"type": "system", "operation": "health_check"}),
                    options=JobOptions(overlap_policy="allow"), enabled=True)


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _run(entry: JobEntry, n: int, *, marked: bool = True) -> Run:
    execution = Execution.start(gateway_id="g", job_id="job_a", execution_id=f"exec_{n}", job_name="a",
                                trigger="scheduled", scheduled_for=T0, now=T0)
    return Run(execution, entry, entry.generation, T0, marked=marked)


def _starter(lease: FakeLease, store: FakeStore, executor: BlockingExecutor, entry: JobEntry, dropped: list) -> Starter:
    starter = Starter(executor, lease, store, OutcomeWriter(None), DispatchStats(), clock=lambda: datetime.now(UTC),
                      entries={"job_a": entry}, max_concurrent=1, device_id="d", on_dropped=dropped.append, name="t")
    starter.start()
    return starter


def test_a_run_that_waits_for_a_pool_thread_loses_its_mark_and_gets_it_back_before_it_starts():
    lease, store, executor, entry, dropped = FakeLease(), FakeStore(), BlockingExecutor(), _entry(), []
    starter = _starter(lease, store, executor, entry, dropped)
    first, second = _run(entry, 1), _run(entry, 2)
    try:
        starter._launch([first, second])  # one pool thread: the first starts, the second waits
        assert store.unmarked == [second.execution.id] and not second.marked
        assert store.marked == []  # the first was marked when recorded
        executor.release.set()  # the first ends: its thread goes to the waiting run, marked first
        assert _wait_for(lambda: "exec_2" in executor.started)
        assert executor.started == ["exec_1", "exec_2"] and store.marked == [second.execution.id]
    finally:
        executor.release.set()
        starter.stop()


def test_nothing_starts_while_the_lease_is_in_doubt_and_a_lost_term_drops_and_unmarks():
    lease, store, executor, entry, dropped = FakeLease(), FakeStore(), BlockingExecutor(), _entry(), []
    starter = _starter(lease, store, executor, entry, dropped)
    run = _run(entry, 1)
    try:
        lease.is_valid = False
        starter._launch([run])
        assert executor.started == [] and store.unmarked == []  # kept armed, for when the lease is renewed
        lease.term = None  # the term ended (another leader)
        starter._launch([run])
        # (the launcher's own retry may drop it too: dropping is idempotent)
        assert executor.started == [] and dropped and all(d is run.execution for d in dropped)
        assert run.execution.id in store.unmarked
    finally:
        starter.stop()


def test_a_run_taken_over_while_it_waited_is_dropped_not_started():
    lease, store, executor, entry, dropped = FakeLease(), FakeStore(), BlockingExecutor(), _entry(), []
    starter = _starter(lease, store, executor, entry, dropped)
    adopted = _run(entry, 9, marked=False)  # e.g. unmarked while waiting
    store.taken_over.add(adopted.execution.id)
    try:
        starter._launch([adopted])
        assert executor.started == [] and dropped == [adopted.execution]
    finally:
        starter.stop()


def test_waiting_runs_start_in_order_as_threads_free_and_one_whose_job_changed_is_cancelled_at_its_turn():
    lease, store, executor, entry, dropped = FakeLease(), FakeStore(), BlockingExecutor(), _entry(), []
    starter = _starter(lease, store, executor, entry, dropped)
    runs = [_run(entry, n) for n in (1, 2, 3, 4)]
    changed = _run(entry, 5)
    changed.generation = entry.generation - 1  # recorded before its job's last change
    try:
        starter._launch(runs[:2])  # one pool thread: exec_1 starts, exec_2 waits
        starter._launch([changed, *runs[2:]])  # they wait behind exec_2, in order
        assert executor.started == ["exec_1"]
        assert store.unmarked == [r.execution.id for r in (runs[1], changed, runs[2], runs[3])]
        executor.release.set()  # each run ends at once now: the thread goes to the next in line
        assert _wait_for(lambda: len(executor.started) == 4)
        assert executor.started == ["exec_1", "exec_2", "exec_3", "exec_4"]
        assert changed.execution.status == "failed" and changed.execution.code == "CANCELLED"
        assert store.marked == [r.execution.id for r in runs[1:]]  # marked again, each before it started
    finally:
        executor.release.set()
        starter.stop()
