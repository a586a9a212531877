"""A pool of read-only connections for the query functions (UTC, dict rows, fast timeouts)."""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

_NAMED = re.compile(r"%\((\w+)\)s|%%")


@lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[bytes, bytes, tuple[str, ...]]:
    """A statement with named parameters as libpq takes it ($1, $2, ...; `%%` is `%`), its
    prepared statement's name (from its text) and its parameters' names in their order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    text = _NAMED.sub(number, sql).encode()
    return text, b"gs_text_" + hashlib.sha1(text).hexdigest()[:20].encode(), tuple(order)


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
        # The statements `first_row_text` has prepared on each connection (a new one has none).
        self._prepared: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[bytes]] = weakref.WeakKeyDictionary()
        self._prepared_lock = threading.Lock()

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

    def first_row_text(self, sql: str, params: dict[str, Any]) -> tuple[bytes | None, ...] | None:
        """The first row's values as PostgreSQL sends them (text; None for NULL), for an answer
        handed on as it is: the statement is prepared once per connection, then each run is one
        libpq call that leaves the GIL for the whole round trip. psycopg's cursor takes the GIL back
        at each step of its wait and builds the row (with dict_row its names too): that cost the
        job list's page more than its Python rest beside the event loop (docs/decisions.md 311).
        Parameters as `all` takes them (named, dumped as text by psycopg's adapters)."""
        text, name, order = _positional(sql)
        with self.pool.connection() as conn:
            with self._prepared_lock:
                prepared = self._prepared.setdefault(conn, set())
            pgconn = conn.pgconn
            if name not in prepared:
                _check(conn, pgconn.prepare(name, text))
                prepared.add(name)
            dumped = Transformer(conn).dump_sequence([params[n] for n in order], [PyFormat.TEXT] * len(order))
            result = pgconn.exec_prepared(name, dumped)
            try:
                _check(conn, result)
            except psycopg.Error:
                prepared.discard(name)  # re-prepared on the next run (dropped by DISCARD, say)
                pgconn.exec_(b"DEALLOCATE " + name)
                raise
            if result.ntuples == 0:
                return None
            return tuple(result.get_value(0, i) for i in range(result.nfields))


def _check(conn: psycopg.Connection[Any], result: pq.abc.PGresult) -> None:
    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        message = (result.error_message or b"").decode(conn.info.encoding, "replace")
        raise psycopg.DatabaseError(message or f"statement failed ({pq.ExecStatus(result.status).name})")
