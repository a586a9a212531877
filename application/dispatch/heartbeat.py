"""A worker's liveness: it upserts its heartbeat row every few seconds while it runs."""

from __future__ import annotations

import logging
import threading
import uuid

import psycopg

from application.clock import Clock, utc_now

_log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, conninfo: str, gateway_id: str, *, every: float = 5.0, clock: Clock = utc_now) -> None:
        self.conninfo = conninfo
        self.gateway_id = gateway_id
        self.worker_id = uuid.uuid4().hex[:12]
        self.every = every
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{gateway_id}", daemon=True)

    def beat(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO gateway_heartbeats (gateway_id, worker_id, last_seen) VALUES (%s, %s, %s)"
                " ON CONFLICT (gateway_id, worker_id) DO UPDATE SET last_seen = EXCLUDED.last_seen",
                (self.gateway_id, self.worker_id, self.clock()),
            )

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except psycopg.Error:
                _log.warning("heartbeat failed for %s", self.gateway_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(
                    "DELETE FROM gateway_heartbeats WHERE gateway_id = %s AND worker_id = %s",
                    (self.gateway_id, self.worker_id),
                )
        except psycopg.Error:
            _log.warning("could not remove heartbeat of %s", self.gateway_id, exc_info=True)
