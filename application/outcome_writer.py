"""Collects run outcomes from the pool threads and records them in batches, each outcome's
in-flight row deleted in the same transaction. The dispatcher loop flushes it every tick: a
writer thread of its own was measured slower (it competes for the interpreter and the table lock)."""

from __future__ import annotations

import logging
import queue
from typing import Any

from application.outcomes import Outcome

_log = logging.getLogger(__name__)
INFLIGHT_DEL = "DELETE FROM dispatch_inflight WHERE execution_aggregate_id = ANY(%s::uuid[])"


class OutcomeWriter:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._queue: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._pending: list[Outcome] = []

    def put(self, outcome: Outcome) -> None:
        """Thread-safe; called by the threads that ran the actions."""
        self._queue.put(outcome)

    def flush(self) -> list[Outcome]:
        """Record what has arrived; returns the outcomes recorded (none if the save failed: they
        stay pending and go with the next flush)."""
        while True:
            try:
                self._pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not self._pending:
            return []
        batch = self._pending
        finished = [o.execution.id for o in batch if not o.will_retry]
        try:
            self.app.record([o.execution for o in batch], side_statements=[(INFLIGHT_DEL, [(finished,)])])
        except Exception:  # noqa: BLE001 - e.g. the database is away: keep them for the next flush
            _log.exception("recording %d outcomes failed; will retry", len(batch))
            return []
        self._pending = []
        return batch
