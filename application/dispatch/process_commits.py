"""The records of all of a process's dispatchers (fires, outcomes, adopted runs) committed together
(docs/decisions.md 97): records that arrive while one transaction is being committed go in the
next one, so a process of 50 gateways asks the database for about as many transactions as one
gateway of the same jobs, instead of 50 times its ticks, each queued on the event table's lock.

Each caller still gets its own outcome: when the combined transaction fails (a duplicate fire,
an ended term), every record of it is committed alone instead, so only the record that caused it
fails, with its own error, as it would have without the others; when the database is away, every
caller gets that error at once (trying each alone would hold the others up for seconds each)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError

from application.dispatch.store import FENCE
from application.group_commit import GroupCommitter

Record = tuple[Sequence[Any], list[Any]]  # (aggregates, side statements)


def combined(records: Sequence[Record]) -> Record:
    """One record of many: the aggregates in order; the fences first, each once, in gateway order
    (the LeaseKeeper locks lease rows in that order), then every other side statement in order."""
    fences: dict[tuple[Any, ...], None] = {}
    rest: list[Any] = []
    for _, side in records:
        for sql, rows in side:
            if sql == FENCE:
                fences.update((tuple(row), None) for row in rows)
            else:
                rest.append((sql, rows))
    aggregates = [aggregate for record, _ in records for aggregate in record]
    fence = [(FENCE, sorted(fences))] if fences else []
    return aggregates, fence + rest


class ProcessCommits:
    """`record(aggregates, side_statements=...)` as Scheduler.record, shared by threads; as
    DispatchStore's, without the events' notification ids (docs/decisions.md 202)."""

    def __init__(self, app: Any, max_batch: int = 128) -> None:
        self.app = app
        self._committer: GroupCommitter[Record, None] = GroupCommitter(self.commit, max_batch)
        self.transactions = 0  # combined or alone, committed (benches)
        self.records = 0

    def record(self, aggregates: Sequence[Any], *, side_statements: list[Any] | None = None) -> None:
        self._committer.submit((aggregates, list(side_statements or ())))

    def commit(self, records: list[Record]) -> list[BaseException | None]:
        """Records in one transaction; if it fails, each alone: one outcome (None or its error) each."""
        if len(records) > 1:
            aggregates, side = combined(records)
            try:
                self.app.record(aggregates, positions=False, side_statements=side)
                self.transactions += 1
                self.records += len(records)
                return [None] * len(records)
            except (OperationalError, InterfaceError) as error:  # the database is away: so for each
                return [error] * len(records)
            except Exception:  # noqa: BLE001 - nothing was recorded: each alone, with its own outcome
                pass
        outcomes: list[BaseException | None] = []
        for aggregates, side in records:
            try:
                self.app.record(aggregates, positions=False, side_statements=side)
                self.transactions += 1
                self.records += 1
                outcomes.append(None)
            except Exception as error:  # noqa: BLE001 - that record's caller gets it
                outcomes.append(error)
        return outcomes
