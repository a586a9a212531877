"""Periodic maintenance of a worker process: execution history retention (docs/decisions.md)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import Connection

from application.clock import Clock
from application.maintenance.retention import (
    delete_execution_events,
    raise_low_water,
    take_pruner_lock,
)
from projections.retention import forget_executions

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    executions: int
    events: int
    log_lines: int


def prune_executions(conn: Connection, cutoff: datetime, batch: int = 5000) -> Pruned:
    """Remove up to `batch` finished executions that ended before `cutoff` (call until 0): their
    read-model rows (the projections' part) and their events (the application's) in one
    transaction, so the read models stay exactly what a replay of the remaining log builds, and
    the live feed's low-water mark rises with them (resync_required)."""
    with conn.transaction():
        if not take_pruner_lock(conn):
            return Pruned(0, 0, 0)  # another process is pruning
        forgotten = forget_executions(conn, cutoff, batch)
        raise_low_water(conn, forgotten.aggregate_ids, forgotten.gateway_ids)
        events = delete_execution_events(conn, forgotten.aggregate_ids)
    return Pruned(len(forgotten.aggregate_ids), events, forgotten.log_lines)


class Retention:
    """Every `every` seconds, prune finished executions older than `days` (0 keeps everything)."""

    def __init__(self, dsn: str, days: float, clock: Clock, every: float = 3600.0) -> None:
        self.dsn, self.days, self.clock, self.every = dsn, days, clock, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        if self.days > 0:
            self._thread.start()

    def run_once(self) -> int:
        cutoff = self.clock() - timedelta(days=self.days)
        total = 0
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while (pruned := prune_executions(conn, cutoff)).executions and not self._stop.is_set():
                total += pruned.executions
        if total:
            _log.info("retention pruned %d executions older than %s", total, cutoff.isoformat())
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once()
            except psycopg.Error:
                _log.warning("retention failed; retrying later", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
