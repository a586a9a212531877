"""The connection of its own on which a lease holder (Leadership) or a process's LeaseKeeper talks
to `dispatch_leases`: opened when first needed (autocommit, a 2 s lock timeout, named so that
replicas see the session), dropped after an error, and its warnings at most every 10 s."""

from __future__ import annotations

import logging
import time

import psycopg


class LeaseConnection:
    def __init__(self, conninfo: str, application_name: str, log: logging.Logger) -> None:
        self.conninfo, self.application_name, self._log = conninfo, application_name, log
        self._conn: psycopg.Connection | None = None
        self._warned_at = 0.0

    @property
    def is_open(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def get(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True, application_name=self.application_name)
            self._conn.execute("SET lock_timeout = '2s'")
        return self._conn

    def drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > 10:
            self._warned_at = now
            self._log.warning(message, exc_info=True)
