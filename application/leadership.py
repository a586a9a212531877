"""One dispatcher per gateway fires: leadership is a PostgreSQL advisory lock held on a
dedicated connection, released by the server the moment its holder dies or disconnects."""

from __future__ import annotations

import hashlib
import logging

import psycopg

_log = logging.getLogger(__name__)


def lock_key(gateway_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"dispatch/{gateway_id}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    def __init__(self, conninfo: str, gateway_id: str) -> None:
        self.conninfo = conninfo
        self.key = lock_key(gateway_id)
        self._conn: psycopg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.conninfo, autocommit=True)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error:
            _log.warning("leadership: database unreachable", exc_info=True)
            self.release()
            return False
        if row and row[0]:
            return True
        self.release()
        return False

    def still_held(self) -> bool:
        """False when the connection that holds the lock is gone (so is the lock)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.release()
            return False

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()  # closing the session releases its advisory locks
            except psycopg.Error:
                pass
