"""What a command recorded (`Saved`), the cause the commit point writes on each of its events, and
the Gateways as this process last saved them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

from application.commands import CommandContext
from domain.gateway import Gateway
from domain.job import Job

# Written by the commit point on every event a command records (docs/events.md, "Cause").
CAUSE_FIELDS = ("actor", "request_id", "operation_id")


@dataclass(frozen=True)
class Saved:
    """What a command recorded: the job it was about, the (topic, position) of each event (the
    caller waits for the read side to reach them), the execution id of a run request, and the
    report of a command on many jobs (an import's)."""

    job: Job | None
    recorded: tuple[tuple[str, int], ...]
    execution_id: str | None = None
    report: Any = None


def recorded(recordings: Sequence[Recording[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((r.notification.topic, r.notification.id) for r in recordings)


def pending(aggregates: Sequence[Any]) -> list[Any]:
    return [event for aggregate in aggregates for event in aggregate.pending_events]


def stamp(events: Sequence[Any], context: CommandContext) -> None:
    """The cause is the command's, not the aggregate's business: written here on every event, so
    no aggregate method carries it and no event of a command can miss it. Events are frozen
    dataclasses; as the library's own mapper does, the attribute is set on the object itself."""
    for event in events:
        for name in CAUSE_FIELDS:
            object.__setattr__(event, name, getattr(context, name))


def _working_copy(saved: Gateway) -> Gateway:
    """A copy to decide on that shares nothing it can change: a Gateway's state is immutable values
    and lists of them (its job ids, its pending events), and each list is copied. A deep copy walked
    every job id of the gateway on every create (thousands in a large gateway; decision 321)."""
    copy = object.__new__(type(saved))
    copy.__dict__.update(
        {name: list(value) if isinstance(value, list) else value for name, value in vars(saved).items()}
    )
    return copy


class SavedGateways:
    """Each Gateway as this process last saved it: a create decides on a copy of it without the
    fast-forward read of the repository (a round trip and the decoding of the events since; docs/
    decisions.md 241). Another writer may have moved the gateway since, so a copy is for decisions
    that record an event on it: the store then refuses the event's version, the commit point
    forgets every copy and the command runs again on fresh state. A gateway at its job limit is
    not handed out, so that a refusal is never decided on a copy."""

    def __init__(self) -> None:
        self._by_id: dict[UUID, Gateway] = {}

    def copy(self, gateway_id: UUID, max_jobs: int) -> Gateway | None:
        saved = self._by_id.get(gateway_id)
        return _working_copy(saved) if saved is not None and len(saved.job_ids) < max_jobs else None

    def keep(self, aggregates: Sequence[Any]) -> None:
        """After a save (events collected): its Gateways, never changed again by their decision."""
        for aggregate in aggregates:
            if isinstance(aggregate, Gateway):
                known = self._by_id.get(aggregate.id)
                if known is None or known.version < aggregate.version:
                    self._by_id[aggregate.id] = aggregate

    def forget(self) -> None:
        self._by_id.clear()
