"""A pool of read-only connections for the query functions (UTC, dict rows, fast timeouts)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


class ReadStore:
    def __init__(self, conninfo: str, *, size: int = 4, timeout: float = 2.0) -> None:
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=size,
            timeout=timeout,
            kwargs={"row_factory": dict_row, "options": "-c TimeZone=UTC", "autocommit": True},
            open=False,
            name="read-store",
        )

    def open(self, timeout: float = 10.0) -> None:
        self.pool.open(wait=True, timeout=timeout)

    def close(self) -> None:
        self.pool.close()

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Parameters are named (`%(name)s`), as in every statement of the read side."""
        with self.pool.connection() as conn:
            return conn.execute(sql, params, prepare=True).fetchall()  # type: ignore[arg-type]

    def one(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None
