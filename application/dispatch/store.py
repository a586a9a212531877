"""The dispatch tables (checkpoints, runs in flight, leases) and the statements that write them:
the side statements that commit with the events, the launch marks, and what a takeover reads."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.dispatch.fire_groups import OpenGroups
from application.dispatch.leadership import APP_NAME_PREFIX
from application.dispatch.planner import fire_groups
from domain.execution import Execution

_log = logging.getLogger(__name__)

FENCE = "SELECT dispatch_fence(%s, %s)"
# Arrays go in binary (%b): psycopg's text form quotes and escapes each element in Python (150
# timestamps: 966 us in text, 96 us in binary; 150 UUIDs: 356 and 53 us), most of the side statements' cost.
_INFLIGHT_ADD = (
    "INSERT INTO dispatch_inflight (execution_aggregate_id, gateway_id, started_at, holder, launched_at)"
    " SELECT unnest(%b::uuid[]), %s, %s, %s, unnest(%b::timestamptz[]) ON CONFLICT DO NOTHING"
)
_INFLIGHT_DEL = "DELETE FROM dispatch_inflight WHERE execution_aggregate_id = ANY(%b::uuid[])"
# A run about to be retried, or adopted by a new holder, is not launched (again) yet.
_INFLIGHT_ADOPT = (
    "UPDATE dispatch_inflight SET holder = %s, launched_at = NULL WHERE execution_aggregate_id = ANY(%b::uuid[])"
)
_INFLIGHT_RELAUNCH = (
    "UPDATE dispatch_inflight AS i SET holder = %s, launched_at = u.at"
    " FROM unnest(%b::uuid[], %b::timestamptz[]) AS u(id, at) WHERE i.execution_aggregate_id = u.id"
)
# A run its holder will not start after all (its lease lapsed first): unmarked, so that a leader
# launches it. Not fenced: only the holder's own row, and only while it still holds it.
_UNMARK = "UPDATE dispatch_inflight SET launched_at = NULL WHERE execution_aggregate_id = ANY(%b::uuid[]) AND holder = %s"
_INFLIGHT_KEEP = "UPDATE dispatch_inflight SET holder = %s WHERE execution_aggregate_id = ANY(%b::uuid[])"
_CHECKPOINT = (
    "INSERT INTO dispatch_checkpoints SELECT %s, unnest(%b::text[]), unnest(%b::timestamptz[])"
    " ON CONFLICT (gateway_id, job_id)"
    " DO UPDATE SET last_due = greatest(dispatch_checkpoints.last_due, EXCLUDED.last_due)"
)
# One statement, one round trip: the fence (key-share-locking the lease row until the statement's
# transaction ends) and the mark.
_MARK = (
    "WITH fence AS (SELECT dispatch_fence(%s, %s)) UPDATE dispatch_inflight SET launched_at = now()"
    " WHERE execution_aggregate_id = ANY(%b::uuid[]) AND holder = %s AND EXISTS (SELECT 1 FROM fence)"
    " RETURNING execution_aggregate_id"
)


class StaleTerm(Exception):
    """A fenced write found that this dispatcher's term has ended."""


def is_stale_term(error: BaseException) -> bool:
    return "stale dispatch term" in str(error)


@dataclass(frozen=True)
class InflightRow:
    aggregate_id: UUID
    holder: str
    launched_at: datetime | None


class DispatchStore:
    def __init__(
        self, app: Any, conninfo: str, gateway_id: str, holder: str, groups: OpenGroups | None = None, *,
        record: Any = None,
    ) -> None:
        self.app = app
        # The process's ProcessCommits.record, else the application's, without the events' positions
        # (nothing here reads them: application/recorder.py).
        self._record = record or self._app_record
        self.conninfo = conninfo
        self.gateway_id = gateway_id
        self.holder = holder
        self.groups = groups if groups is not None else OpenGroups(app, gateway_id)  # the instants' groups recorded here, until completed
        self._launch_conn: psycopg.Connection | None = None

    # ---- side statements (commit with the events) ----------------------------------------

    def fence(self, term: int) -> tuple[str, list[Any]]:
        return (FENCE, [(self.gateway_id, term)])

    def fire_side(
        self, executions: Sequence[Execution], term: int, now: datetime, launch_at: Mapping[UUID, datetime]
    ) -> list[Any]:
        """What commits with recorded fires: the term check; new runs in flight (with the instant
        each starts at, for those a pool thread is reserved for: `launch_at`); runs about to be
        retried likewise; each job's checkpoint at the latest instant fired or missed."""
        new = [e for e in executions if e.version == 1]
        inflight = [e.id for e in new if e.status == "running"]
        retried = [e.id for e in executions if e.version > 1 and e.status == "running"]
        due: dict[str, datetime] = {}
        for e in new:
            if e.scheduled_for is not None and (e.status == "missed" or e.trigger in ("scheduled", "misfire")):
                due[e.job_id] = max(due.get(e.job_id, e.scheduled_for), e.scheduled_for)
        side: list[Any] = [self.fence(term)]
        if inflight:
            at = [launch_at.get(i) for i in inflight]
            side.append((_INFLIGHT_ADD, [(inflight, self.gateway_id, now, self.holder, at)]))
        if retried:
            side.append((_INFLIGHT_RELAUNCH, [(self.holder, retried, [launch_at.get(i) for i in retried])]))
        if due:
            side.append((_CHECKPOINT, [(self.gateway_id, list(due), list(due.values()))]))
        return side

    @staticmethod
    def finished_side(finished: Iterable[UUID]) -> list[Any]:
        ids = list(finished)
        return [(_INFLIGHT_DEL, [(ids,)])] if ids else []

    def adopt_side(self, term: int, relaunch: Sequence[UUID], keep: Sequence[UUID], closed: Sequence[UUID]) -> list[Any]:
        side: list[Any] = [self.fence(term)]
        if relaunch:
            side.append((_INFLIGHT_ADOPT, [(self.holder, list(relaunch))]))
        if keep:
            side.append((_INFLIGHT_KEEP, [(self.holder, list(keep))]))
        return side + self.finished_side(closed)

    def fire_record(
        self, executions: Sequence[Execution], term: int | None, now: datetime, launch_at: Mapping[UUID, datetime]
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """What recording fires commits (alone, or with other gateways' in a process's tick): the
        executions and the groups of runs due at one instant (`fire_groups`), their fenced side
        statements, and the groups (for `opened` once committed)."""
        if term is None:
            raise StaleTerm("not leading")
        groups = fire_groups(self.gateway_id, executions, now)
        return [*executions, *groups], self.fire_side(executions, term, now, launch_at), groups

    def opened(self, executions: Sequence[Execution], groups: Sequence[Any]) -> None:
        """The fire record of `fire_record` committed: its groups are open, their runs at hand."""
        self.groups.opened(groups, executions if groups else ())

    def save_fires(
        self, executions: Sequence[Execution], term: int | None, now: datetime, launch_at: Mapping[UUID, datetime]
    ) -> set[UUID]:
        """Record fires in one fenced transaction, with the groups of runs due at one instant
        (`fire_groups`); if another writer got there first (a duplicate fire), one by one, so only
        the duplicates are dropped (a group then only if no one recorded it). Returns the ids recorded."""
        aggregates, side, groups = self.fire_record(executions, term, now, launch_at)
        try:
            self.save(aggregates, side)
            self.opened(executions, groups)
            return {e.id for e in executions}
        except IntegrityError:
            for group in groups:
                try:
                    self.save([group], [self.fence(term)])
                    self.groups.opened([group])
                except IntegrityError:
                    pass  # another writer recorded this instant's group
            saved: set[UUID] = set()
            for execution in executions:
                try:
                    self.save([execution], self.fire_side([execution], term, now, launch_at))
                    saved.add(execution.id)
                except IntegrityError:
                    _log.info("execution %s already recorded elsewhere; not firing it", execution.execution_id)
            return saved

    # ---- reads ------------------------------------------------------------------------------

    def _query(self, sql: str, params: Any) -> list[Any]:
        with self.app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute(sql, params)
            return curs.fetchall()

    def checkpoints(self) -> dict[str, datetime]:
        rows = self._query("SELECT job_id, last_due FROM dispatch_checkpoints WHERE gateway_id = %s", (self.gateway_id,))
        return {row["job_id"]: row["last_due"] for row in rows}

    def inflight(self) -> list[InflightRow]:
        rows = self._query(
            "SELECT execution_aggregate_id, holder, launched_at FROM dispatch_inflight WHERE gateway_id = %s",
            (self.gateway_id,),
        )
        return [InflightRow(r["execution_aggregate_id"], r["holder"], r["launched_at"]) for r in rows]

    def connected_holders(self) -> set[str]:
        """Dispatcher instances with a session open now (their leadership connection)."""
        rows = self._query(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s", (APP_NAME_PREFIX + "%",)
        )
        return {r["application_name"][len(APP_NAME_PREFIX):] for r in rows}

    def exists(self, execution_id: str) -> bool:
        try:
            self.app.repository.get(Execution.id_for(self.gateway_id, execution_id))
            return True
        except AggregateNotFoundError:
            return False

    def save(self, executions: Sequence[Execution], side: list[Any]) -> None:
        """Record executions with side statements; a fenced write of an ended term is StaleTerm."""
        try:
            self._record(executions, side_statements=side)
        except Exception as error:
            if is_stale_term(error):
                raise StaleTerm(str(error)) from error
            raise

    def _app_record(self, aggregates: Sequence[Any], **kwargs: Any) -> None:
        self.app.record(aggregates, positions=False, **kwargs)

    # ---- launch marks (the launcher's thread, its own connection) -------------------------

    def mark_launched(self, ids: Sequence[UUID], term: int) -> set[UUID]:
        """Durably note that these runs start now, while `term` is current; returns the ids marked
        (a run taken over by another holder meanwhile is not). Raises StaleTerm, or a database error.
        Only for runs that got a pool thread late: the others are marked when recorded."""
        try:
            rows = self._launch_connection().execute(_MARK, (self.gateway_id, term, list(ids), self.holder)).fetchall()
        except psycopg.Error as error:
            if is_stale_term(error):
                raise StaleTerm(str(error)) from error
            self._close_launch_connection()
            raise
        return {row[0] for row in rows}

    def _launch_connection(self) -> psycopg.Connection:
        if self._launch_conn is None or self._launch_conn.closed:
            self._launch_conn = psycopg.connect(
                self.conninfo, autocommit=True, application_name=f"gs-launch/{self.holder}"[:63])
            # A mark lost to a database crash makes a launched run look unlaunched only if this
            # process dies too; it then re-runs once. Not waiting for the disk keeps launches on time.
            self._launch_conn.execute("SET synchronous_commit = off")
            self._launch_conn.execute("SET lock_timeout = '2s'")
        return self._launch_conn

    def _close_launch_connection(self) -> None:
        conn, self._launch_conn = self._launch_conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def unmark(self, ids: Sequence[UUID]) -> None:
        """Best effort: a row left marked is closed `INTERRUPTED` later instead of being launched."""
        try:
            self._launch_connection().execute(_UNMARK, (list(ids), self.holder))
        except psycopg.Error:
            _log.warning("could not unmark %d runs not started", len(ids), exc_info=True)
            self._close_launch_connection()

    def close(self) -> None:
        self._close_launch_connection()
