"""Periodic maintenance of a worker process: execution history retention."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import psycopg

from application.clock import Clock
from projections.retention import prune_executions

_log = logging.getLogger(__name__)


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
