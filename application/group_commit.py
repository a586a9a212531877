"""Group commit at the one commit point (docs/decisions.md, 80-82).

Commands that arrive while a batch is being decided and saved wait in a queue; the next batch
takes all of them. Its commands are decided one after another on one set of working copies (a
second create in a gateway sees the first one's job on the same Gateway aggregate, so creates in
one gateway neither collide nor retry), and every event of the batch is saved in one transaction.
Each caller still gets its own outcome: its own positions (read-your-writes) or its own error.

No thread of its own: the first caller to find no batch running leads one (leader/follower); when
it is done it hands the lead to the first caller still waiting, so each caller leads at most the
batch that holds its own command and a lone caller never waits for anyone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.errors import JobNotFound
from domain.gateway import Gateway
from domain.identity import gateway_uuid, job_uuid, resource_monitor_uuid
from domain.job import Job

I = TypeVar("I")  # noqa: E741 - an item, as submitted
R = TypeVar("R")

MAX_BATCH = 128


def live(job: Job | None, job_id: str) -> Job:
    """The job, unless it does not exist or was deleted."""
    if job is None or job.deleted:
        raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
    return job


@dataclass(eq=False)
class _Waiter(Generic[I]):
    item: I
    event: threading.Event = field(default_factory=threading.Event)
    promoted: bool = False  # handed the lead before its outcome came
    outcome: Any = None
    done: bool = False


class GroupCommitter(Generic[I, R]):
    """Runs submitted items in batches through `run` (one outcome, a result or an exception, per
    item, in order) with at most one batch at a time."""

    def __init__(self, run: Callable[[list[I]], list[R | BaseException]], max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Waiter[I]] = []
        self._leading = False

    def submit(self, item: I) -> R:
        waiter = _Waiter(item)
        with self._lock:
            self._queue.append(waiter)
            lead = not self._leading
            self._leading = True
        if not lead:
            waiter.event.wait()
        if not waiter.done:  # first here, or promoted: the next batch holds this item
            self._lead()
        if isinstance(waiter.outcome, BaseException):
            raise waiter.outcome
        return waiter.outcome  # type: ignore[no-any-return]

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            try:
                outcomes: Sequence[Any] = self._run([w.item for w in batch])
            except BaseException as error:  # noqa: BLE001 - every caller of the batch gets it
                outcomes = [error] * len(batch)
            for waiter, outcome in zip(batch, outcomes, strict=True):
                waiter.outcome, waiter.done = outcome, True
                waiter.event.set()
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.promoted = True
                    following.event.set()
                else:
                    self._leading = False


class Tainted(Exception):
    """A refused command had already changed a working copy shared by the batch."""


@dataclass
class Decided:
    """One command's verdict within a batch: its decision and the events it recorded."""

    job: Job | None
    execution_id: str | None
    events: list[Any]
    report: Any = None


class Together:
    """The Aggregates a batch's handlers decide on: each aggregate loaded once (from the
    Scheduler, so from its cache) and then shared, changes of earlier commands included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.max_jobs: int = app.max_jobs
        self.clock = app.clock
        self.loaded: dict[UUID, Any] = {}  # aggregate id -> working copy, None: there is none
        self._answered: dict[UUID, list[Decided]] = {}  # job id -> earlier verdicts answering with it
        self._unverified: set[UUID] = set()  # gateways loaded as last saved, not fast-forwarded

    def _get(self, key: UUID, load: Callable[[], Any]) -> Any:
        for verdict in self._answered.pop(key, ()):  # a later command changes it: keep the answer as it was
            verdict.job = deepcopy(verdict.job)
        if key not in self.loaded:
            self.loaded[key] = load()
        return self.loaded[key]

    def job_ever(self, gateway_id: str, job_id: str) -> Job | None:
        return self._get(job_uuid(gateway_id, job_id), lambda: self.app.job_ever(gateway_id, job_id))  # type: ignore[no-any-return]

    def job(self, gateway_id: str, job_id: str) -> Job:
        return live(self.job_ever(gateway_id, job_id), job_id)

    def job_at(self, gateway_id: str, job_id: str, version: int) -> Job:
        return self.app.job_at(gateway_id, job_id, version)  # type: ignore[no-any-return]  # a past version: read only

    def resource_monitor(self, gateway_id: str) -> Any:
        return self._get(resource_monitor_uuid(gateway_id), lambda: self.app.resource_monitor(gateway_id))

    def gateway(self, gateway_id: str) -> Gateway | None:
        key = gateway_uuid(gateway_id)
        if key in self._unverified and not self.loaded[key].pending_events:  # read only: must be fresh
            del self.loaded[key]
            self._unverified.discard(key)
        return self._get(key, lambda: self.app.gateway(gateway_id))  # type: ignore[no-any-return]

    def gateway_to_extend(self, gateway_id: str) -> Gateway | None:
        """The copy the Scheduler last saved, when the batch has not loaded the gateway yet: the
        save refuses the batch if another writer moved it, as long as the batch records an event
        on it; a read-only use of it in the batch (`gateway`) loads it afresh while it is unchanged."""
        key = gateway_uuid(gateway_id)
        if key not in self.loaded:
            saved = self.app.saved_gateway(gateway_id)
            if saved is None:
                return self.gateway(gateway_id)
            self.loaded[key] = saved
            self._unverified.add(key)
        return self.loaded[key]  # type: ignore[no-any-return]

    def decide(self, handle: Callable[..., Any], command: Any, context: Any) -> Decided:
        """Runs one handler; a refusal that left a shared copy changed raises Tainted."""
        before = {key: len(a.pending_events) for key, a in self.loaded.items() if a is not None}
        try:
            decision = handle(command, self, context)
        except Exception:
            if any(a is not None and len(a.pending_events) != before.get(key, 0) for key, a in self.loaded.items()):
                raise Tainted from None
            raise
        events = []
        for aggregate in decision.aggregates:
            events.extend(aggregate.pending_events[before.get(aggregate.id, 0):])
            self.loaded[aggregate.id] = aggregate
        verdict = Decided(decision.job, decision.execution_id, events, decision.report)
        if decision.job is not None:
            self._answered.setdefault(decision.job.id, []).append(verdict)
        return verdict

    def changed(self) -> list[Any]:
        return [a for a in self.loaded.values() if a is not None and a.pending_events]
