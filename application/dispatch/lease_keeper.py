"""Renews the leases of all of a process's leading dispatchers in one statement, on one
connection, from a thread of its own (docs/decisions.md 96): a lease renewal per gateway was
a commit per gateway every half second (400 a second for a fleet of 200 gateways), and ran in the
dispatch loop, so a leader waiting for the event table did not renew its lease in time. It also
looks, in one read-only statement, which leases its standbys could take: a standby's attempt to
take a lease locks the row, so each was a commit a second per standby."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import psycopg

from application.dispatch.lease_connection import LeaseConnection

if TYPE_CHECKING:
    from application.dispatch.leadership import Leadership

_log = logging.getLogger(__name__)

# A renewal does not wait for the fences of fire transactions (FOR KEY SHARE, migration 020); the
# rows are locked in gateway order all the same, as a combined fire transaction fences them.
_RENEW_ALL = (
    "WITH u AS (SELECT * FROM unnest(%(g)s::text[], %(t)s::bigint[], %(h)s::text[]) AS u(g, t, h)),"
    " locked AS (SELECT l.gateway_id FROM dispatch_leases l JOIN u ON l.gateway_id = u.g AND l.term = u.t"
    " AND l.holder = u.h ORDER BY l.gateway_id FOR NO KEY UPDATE OF l)"
    " UPDATE dispatch_leases AS l SET expires_at = now() + %(lease)s * interval '1 second'"
    " FROM locked WHERE l.gateway_id = locked.gateway_id RETURNING l.gateway_id, l.term"
)

# The leases a standby could take now (as `_ACQUIRE` in leadership.py decides), read without a lock.
_TAKEABLE = (
    "SELECT u.g FROM unnest(%(g)s::text[], %(h)s::text[]) AS u(g, h)"
    " LEFT JOIN dispatch_leases l ON l.gateway_id = u.g"
    " WHERE l.gateway_id IS NULL OR l.expires_at < now() OR l.holder = u.h"
    " OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = %(prefix)s || l.holder)"
)


class LeaseKeeper:
    """One per process (per database). A Leadership joins it when it takes a lease and leaves it
    when it steps down; while it is in, its lease is renewed every `every` seconds."""

    def __init__(self, conninfo: str, *, lease_seconds: float, every: float, safety: float, prefix: str) -> None:
        self.conninfo, self.lease_seconds, self.every, self.safety = conninfo, lease_seconds, every, safety
        self.prefix = prefix  # of the holders' session names (leadership.APP_NAME_PREFIX)
        self._held: dict[int, Leadership] = {}
        self._waiting: dict[int, Leadership] = {}  # standbys: told when their lease looks takeable
        self._round = threading.Lock()  # held for a whole round: leaving waits for one in progress
        self._db = LeaseConnection(conninfo, "gs-leases", _log)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # renewal statements sent (tests and benches)

    def join(self, leadership: Leadership) -> None:
        """It leads: its lease is renewed from now on."""
        with self._round:
            self._waiting.pop(id(leadership), None)
            self._held[id(leadership)] = leadership
            self._start()

    def wait(self, leadership: Leadership) -> None:
        """It stands by: `leadership.takeable()` is called once its lease looks free."""
        with self._round:
            self._waiting[id(leadership)] = leadership
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
            self._thread.start()

    def leave(self, leadership: Leadership) -> None:
        """After this returns no renewal of this leadership's term is in flight or will be sent."""
        with self._round:
            self._held.pop(id(leadership), None)
            self._waiting.pop(id(leadership), None)

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        with self._round:
            self._thread = None
            self._db.drop()

    def _run(self) -> None:
        """Runs while a lease is held: the last leadership to leave ends it (`join` starts another)."""
        while not self._stopping.wait(self.every):
            with self._round:
                if not self._held and not self._waiting:
                    self._thread = None
                    self._db.drop()
                    return
                self.renew()
                self.look()

    def renew(self) -> None:
        """One statement for every lease held (called with the round lock held)."""
        held = [(lead, lead.term) for lead in self._held.values() if lead.term is not None]
        if not held:
            return
        sent = time.monotonic()
        params = {"g": [lead.gateway_id for lead, _ in held], "t": [t for _, t in held],
                  "h": [lead.holder for lead, _ in held], "lease": self.lease_seconds}
        try:
            rows = self._db.get().execute(_RENEW_ALL, params).fetchall()
        except psycopg.Error:
            self._db.warn(f"leadership: cannot renew {len(held)} leases")
            self._db.drop()
            return
        self.rounds += 1
        renewed = {(g, t) for g, t in rows}
        for lead, term in held:
            if (lead.gateway_id, term) in renewed:
                lead.renewed(term, sent + self.lease_seconds - self.safety)
            else:
                lead.ended(term)

    def look(self) -> None:
        """One read for every standby (called with the round lock held)."""
        waiting = list(self._waiting.values())
        if not waiting:
            return
        params = {"g": [lead.gateway_id for lead in waiting], "h": [lead.holder for lead in waiting],
                  "prefix": self.prefix}
        try:
            free = {row[0] for row in self._db.get().execute(_TAKEABLE, params).fetchall()}
        except psycopg.Error:
            self._db.warn(f"leadership: cannot look at {len(waiting)} leases")
            self._db.drop()
            return
        for lead in waiting:
            if lead.gateway_id in free:
                lead.takeable()
