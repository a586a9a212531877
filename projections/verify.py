"""`projections verify`: replay the log into scratch tables and compare them with the live read
models. The scratch tables live in a schema of their own, made LIKE the live ones; the projection
runs unchanged on a datastore whose search_path is that schema alone (so a statement cannot reach
a live table), up to the position the live view has reached. The comparison runs in one
REPEATABLE READ snapshot that still sees the live view at that position (else it replays on and
tries again): the service may keep running meanwhile."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from psycopg import sql
from psycopg.rows import dict_row

from projections.view import TrackedView

ATTEMPTS = 20
SAMPLES = 3


class ScratchDatastore(PostgresDatastore):
    """Every connection's search_path is the scratch schema (its `schema`) only."""

    def after_connect_func(self) -> Callable[[Any], None]:
        base = super().after_connect_func()
        statement = sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))

        def after_connect(conn: Any) -> None:
            base(conn)
            conn.cursor().execute(statement)

        return after_connect


@dataclass
class TableDifference:
    table: str
    only_live: int
    only_replayed: int
    samples_live: list[dict[str, Any]] = field(default_factory=list)
    samples_replayed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    projection: str
    position: int
    replayed: int
    differences: list[TableDifference]

    @property
    def clean(self) -> bool:
        return not self.differences


def _live_position(conn: psycopg.Connection[Any], view: type[TrackedView], app_name: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT notification_id FROM public.{} WHERE application_name = %s").format(
            sql.Identifier(view.tracking_table)), (app_name,)).fetchone()
    return int(row["notification_id"]) if row and row["notification_id"] is not None else 0


def _compare(conn: psycopg.Connection[Any], schema: str, table: str) -> TableDifference | None:
    live, scratch = sql.Identifier("public", table), sql.Identifier(schema, table)
    only = sql.SQL("SELECT * FROM {} EXCEPT ALL SELECT * FROM {}")
    counts = []
    samples = []
    for a, b in ((live, scratch), (scratch, live)):
        rows = conn.execute(only.format(a, b)).fetchall()
        counts.append(len(rows))
        samples.append(rows[:SAMPLES])
    if counts == [0, 0]:
        return None
    return TableDifference(table, counts[0], counts[1], samples[0], samples[1])


def verify(
    app: Any, projection_type: type[Projection[Any]], view_type: type[TrackedView], url: str,
    env: dict[str, str], page: int = 500,
) -> Verdict:
    """Replays the whole log into a scratch copy of `view_type`'s tables and compares; the scratch
    schema is dropped before returning."""
    schema = f"verify_{secrets.token_hex(4)}"
    tables = (*view_type.tables, view_type.tracking_table)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            for table in tables:
                conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    sql.Identifier(schema, table), sql.Identifier("public", table)))
            datastore = ScratchDatastore(
                dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], schema=schema, pool_size=1,
            )
            try:
                projection = projection_type(view_type(datastore))
                return _replay_and_compare(app, projection, view_type, conn, schema, page)
            finally:
                datastore.close()
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _replay_and_compare(
    app: Any, projection: Projection[Any], view_type: type[TrackedView], conn: psycopg.Connection[Any], schema: str,
    page: int,
) -> Verdict:
    start, replayed = 1, 0
    for _ in range(ATTEMPTS):
        target = _live_position(conn, view_type, app.name)
        while start <= target:
            batch = app.recorder.select_notifications(start=start, limit=page, stop=target, topics=projection.topics)
            if not batch:
                break
            projection.view.batch_in_this_thread()  # a page per transaction, as the projection's thread
            try:
                for notification in batch:
                    projection.process_event(app.mapper.to_domain_event(notification),
                                             Tracking(app.name, notification.id))
            finally:
                projection.view.stop_batching()
            replayed += len(batch)
            start = batch[-1].id + 1
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            if _live_position(conn, view_type, app.name) != target:
                continue  # the live view moved on: replay further and look again
            differences = [d for table in view_type.tables if (d := _compare(conn, schema, table)) is not None]
            return Verdict(projection.name, target, replayed, differences)
        finally:
            conn.execute("ROLLBACK")
    raise RuntimeError(f"{projection.name}: the live read model kept moving; try again when the service is quieter")
