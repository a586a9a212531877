"""The launcher (runs started at their instants, by a fake clock) and the outcome writer (one bad
outcome never holds up the others; a database away keeps them pending and shows in health),
with fakes for the clock and the application."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError

from application.dispatch.launcher import Launcher
from application.dispatch.outcome_writer import UNHEALTHY_AFTER, OutcomeWriter
from application.dispatch.outcomes import Outcome
from domain.options import JobOptions

T0 = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_the_launcher_starts_each_batch_at_its_instant_and_not_before():
    clock = FakeClock()
    launched: list[list[str]] = []
    arrived = threading.Event()

    def launch(runs: list[str]) -> None:
        launched.append(runs)
        arrived.set()

    launcher = Launcher(clock, launch, "t")
    launcher.start()
    try:
        launcher.arm([(T0 + timedelta(seconds=1), "a"), (T0 + timedelta(seconds=1), "b"), (T0 + timedelta(seconds=2), "c")])
        assert not arrived.wait(0.2) and launched == []
        clock.now = T0 + timedelta(seconds=1.5)
        launcher.arm([])  # wakes it: the fake clock moved
        assert arrived.wait(2) and launched == [["a", "b"]]
        assert launcher.clear() == ["c"]
    finally:
        launcher.stop()


@dataclass
class FakeExecution:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    execution_id: str = "exec"
    status: str = "success"


@dataclass
class FakeApp:
    """Refuses the records of `closed` ids (another writer got there first); `down` fails all."""

    closed: set[uuid.UUID] = field(default_factory=set)
    down: bool = False
    recorded: list[Any] = field(default_factory=list)

    def record(self, executions: list[Any], **_: Any) -> None:
        if self.down:
            raise OperationalError("server closed the connection")
        if any(e.id in self.closed for e in executions):
            raise IntegrityError("duplicate key value violates unique constraint")
        self.recorded.extend(executions)

    @property
    def repository(self) -> Any:
        return self

    def get(self, _id: uuid.UUID) -> Any:
        return FakeExecution(status="failed")


def _outcome(execution: FakeExecution) -> Outcome:
    return Outcome(execution, False, JobOptions(), "job_a")  # type: ignore[arg-type]


def test_an_outcome_of_a_run_closed_meanwhile_is_dropped_and_the_others_are_recorded():
    good, bad, other = FakeExecution(), FakeExecution(), FakeExecution()
    app = FakeApp(closed={bad.id})
    writer = OutcomeWriter(app)
    for e in (good, bad, other):
        writer.put(_outcome(e))
    flushed = writer.flush()
    assert [o.execution for o in flushed.recorded] == [good, other]
    assert [o.execution for o in flushed.dropped] == [bad]
    assert app.recorded == [good, other] and writer.pending == 0 and writer.reconciled == 1


def test_outcomes_wait_while_the_database_is_away_and_readiness_says_so_after_a_while():
    app = FakeApp(down=True)
    writer = OutcomeWriter(app)
    first, second = FakeExecution(), FakeExecution()
    writer.put(_outcome(first))
    assert writer.flush().recorded == [] and writer.pending == 1
    writer.put(_outcome(second))
    assert writer.flush().recorded == [] and writer.pending == 2 and writer.failures == 2
    assert writer.health()[0]  # a passing failure is not yet a readiness problem
    assert writer.failing_since is not None
    writer.failing_since = time.monotonic() - UNHEALTHY_AFTER - 1
    ok, detail = writer.health()
    assert not ok and "2 outcomes not recorded" in detail
    app.down = False
    assert [o.execution for o in writer.flush().recorded] == [first, second]  # in order
    assert writer.health()[0] and writer.pending == 0


def test_outcomes_stay_pending_when_their_record_cannot_be_prepared():
    """Completing an instant's group is part of preparing the record; if that fails (a group that
    had to be read back while the database is away), the outcomes wait for the next flush."""

    class FailingGroups:
        fail = True

        def completions(self, ended: Any, now: Any) -> list[Any]:
            if self.fail:
                raise OperationalError("server closed the connection")
            return []

        def recorded(self, ended: Any, completed: Any) -> None:
            pass

    app, groups = FakeApp(), FailingGroups()
    writer = OutcomeWriter(app, groups)  # type: ignore[arg-type]
    run = FakeExecution()
    run.modified_on = datetime.now(UTC)  # type: ignore[attr-defined]
    writer.put(_outcome(run))
    assert writer.take() is None and writer.pending == 1 and writer.failures == 1
    groups.fail = False
    assert [o.execution for o in writer.flush().recorded] == [run] and app.recorded == [run]
