"""What a command recorded (`Saved`) and the cause the commit point writes on each of its events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Recording

from application.commands import CommandContext
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
