"""The batch path of the commit point (docs/decisions.md 80-82): the commands of one group-commit
batch decided in order on shared working copies (`Together`) and saved in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError

from application.commands import Command, CommandContext, batchable, handler_for
from application.group_commit import Tainted, Together
from application.saved import Saved, stamp


def execute_batch(app: Any, items: Sequence[tuple[Command, CommandContext]]) -> list[Saved | Exception]:
    """Decides the commands in order on shared working copies and saves all their events in one
    transaction; each outcome is the command's Saved or its own error. When the transaction loses
    a race with another writer, or a refused command left a shared copy changed, each command is
    executed alone instead (as one command always is, through `app.outcome`)."""
    if len(items) == 1 or not all(batchable(command) for command, _ in items):
        return [app.outcome(command, context) for command, context in items]
    together = Together(app)
    verdicts: list[Any] = []
    try:
        for command, context in items:
            try:
                verdict = together.decide(handler_for(command), command, context)
            except Tainted:
                raise
            except Exception as error:  # noqa: BLE001 - this command's own refusal
                verdicts.append(error)
                continue
            stamp(verdict.events, context)
            verdicts.append(verdict)
        positions = save_in_order(
            app, [e for v in verdicts if not isinstance(v, Exception) for e in v.events], together.changed()
        )
    except IntegrityError:
        app.saved_gateways.forget()  # decided on a copy another writer had passed: each alone, on fresh state
        return [app.outcome(command, context) for command, context in items]
    except Tainted:
        return [app.outcome(command, context) for command, context in items]
    return [
        v if isinstance(v, Exception)
        else Saved(
            v.job, tuple(positions[(e.originator_id, e.originator_version)] for e in v.events), v.execution_id,
            v.report,
        )
        for v in verdicts
    ]


def save_in_order(app: Any, events: list[Any], aggregates: list[Any]) -> dict[tuple[UUID, int], tuple[str, int]]:
    """`save()` of the aggregates, but their events recorded in command order (the order the read
    side sees them in); answers each event's (topic, position) by (aggregate, version)."""
    if not events:  # a batch of refusals and no-ops (an import of what is there) writes nothing
        return {}
    processing = ProcessingEvent[UUID]()
    processing.events = list(events)
    processing.aggregates = {aggregate.id: aggregate for aggregate in aggregates}
    recordings = app._record(processing)
    for aggregate in aggregates:  # only once saved
        aggregate.collect_events()
    app.saved_gateways.keep(aggregates)
    app._take_snapshots(processing)
    app._notify(recordings)
    return {
        (r.domain_event.originator_id, r.domain_event.originator_version): (r.notification.topic, r.notification.id)
        for r in recordings
    }
