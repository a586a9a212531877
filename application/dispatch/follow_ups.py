"""What the leading dispatcher does for operations after they answered (docs/decisions.md 49-50):
it advances each run-all's execution group (finished members recorded, the next member of a
sequential group started, the group completed) and, at a disable-all's deadline, enables again
the jobs that operation disabled. Its state is the `operations` table and the log, so a dispatcher
restarted, or a replica taking over, carries on where the last one stopped; each step is a command
through the commit point, carrying the operation's id, and deciding on fresh state (two replicas
doing the same step collide and the loser finds nothing left to do)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from application.commands import AdvanceGroup, CommandContext, ReenableDisabled
from application.operations import SYNC_EXPIRY, Operation, Operations
from application.scheduler import Scheduler

_log = logging.getLogger(__name__)
RUN_ALL, DISABLE_ALL = "run_all", "disable_all"
EVERY = 0.5  # seconds between looks at the operations owed work


class FollowUps:
    def __init__(self, app: Scheduler, operations: Operations, gateway_id: str) -> None:
        self.app, self.operations, self.gateway_id = app, operations, gateway_id
        self.actor = f"worker/{gateway_id}"
        self.passes = 0  # looks at the due operations so far (tests wait for one to have happened)

    def loop(self, stopping: threading.Event, leading: Callable[[], bool], clock: Callable[[], datetime]) -> None:
        """The dispatcher's follow-up thread, beside its dispatch loop (a group's step or the
        re-enabling of many jobs must not delay a fire): a look every EVERY seconds while leading."""
        while not stopping.wait(EVERY):
            if not leading():
                continue
            try:
                self.run(clock())
            except Exception:  # noqa: BLE001 - e.g. the database is away: retried at the next look
                _log.exception("follow-ups of gateway %s failed", self.gateway_id)

    def run(self, now: datetime, due: list[Operation] | None = None) -> int:
        """Every due follow-up of this gateway (`due`: as read for the whole process); returns how
        many operations were followed up."""
        done = 0
        for operation in self.operations.due(self.gateway_id, now) if due is None else due:
            try:
                done += self._follow(operation)
            except Exception:  # noqa: BLE001 - one operation's failure must not stop the others
                _log.exception("follow-up of operation %s (%s) failed; retried", operation.id, operation.kind)
        self.passes += 1
        return done

    def _expired(self, operation: Operation) -> bool:
        return self.app.clock() - operation.started_at > SYNC_EXPIRY

    def _follow(self, operation: Operation) -> int:
        context = CommandContext(self.actor, None, operation.id)
        if operation.kind == RUN_ALL:
            saved = self.app.execute(AdvanceGroup(self.gateway_id, operation.detail["group_id"]), context)
            group = saved.report
            if group is None and operation.state == "running" and not self._expired(operation):
                return 0  # its group is being recorded now
            if group is None or group.status != "running":  # ended, or never recorded (the operation failed)
                self.operations.followed_up(operation.id, finish=True)
                return 1
            return 0
        if operation.kind == DISABLE_ALL:
            saved = self.app.execute(ReenableDisabled(self.gateway_id, operation.id), context)
            _log.info("operation %s: %d jobs enabled again at its deadline", operation.id, len(saved.report))
            self.operations.followed_up(operation.id)
            return 1
        self.operations.followed_up(operation.id)  # a kind with no follow-up
        return 1


@dataclass(frozen=True)
class _Followed:
    follow_ups: FollowUps
    leading: Callable[[], bool]
    clock: Callable[[], datetime]


class ProcessFollowUps:
    """The follow-up thread of all of a process's dispatchers: one query a look for every gateway
    it leads (a thread and a query per dispatcher were 2 queries a second per gateway)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations
        self._followed: dict[int, _Followed] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, follow_ups: FollowUps, leading: Callable[[], bool], clock: Callable[[], datetime]) -> None:
        with self._lock:
            self._followed[id(follow_ups)] = _Followed(follow_ups, leading, clock)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="operations", daemon=True)
                self._thread.start()

    def remove(self, follow_ups: FollowUps) -> None:
        with self._lock:
            self._followed.pop(id(follow_ups), None)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopping.wait(EVERY):
            with self._lock:
                leading = [f for f in self._followed.values() if f.leading()]
            if not leading:
                continue
            try:
                due = self.operations.due_in(sorted({f.follow_ups.gateway_id for f in leading}), leading[0].clock())
            except Exception:  # noqa: BLE001 - e.g. the database is away: retried at the next look
                _log.exception("follow-ups of %d gateways failed", len(leading))
                continue
            for f in leading:
                try:
                    f.follow_ups.run(f.clock(), due.get(f.follow_ups.gateway_id, []))
                except Exception:  # noqa: BLE001 - one gateway's failure must not stop the others
                    _log.exception("follow-ups of gateway %s failed", f.follow_ups.gateway_id)
