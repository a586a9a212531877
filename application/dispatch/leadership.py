"""Leadership of one gateway's dispatchers: a lease row with a term. The holder renews it; a
replica takes it over (the term goes up) once it expired or its holder's session is gone. Every
write of a leader carries its term and is refused once the term has moved on (fencing)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

import psycopg

from application.dispatch.lease_connection import LeaseConnection
from application.dispatch.lease_keeper import LeaseKeeper

_log = logging.getLogger(__name__)

LEASE_SECONDS = 3.0  # a silent holder (paused, partitioned) is replaced after this
RENEW_EVERY = 0.5
# The holder stops acting this long before the lease it last renewed expires in the database
# (its clock started when the renewal was sent, the database's when it ran).
SAFETY = 0.5
APP_NAME_PREFIX = "gs-dispatch/"

_ACQUIRE = (
    "INSERT INTO dispatch_leases AS l (gateway_id, term, holder, expires_at)"
    " VALUES (%(g)s, 1, %(h)s, now() + %(lease)s * interval '1 second')"
    " ON CONFLICT (gateway_id) DO UPDATE"
    " SET term = l.term + 1, holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at"
    " WHERE l.expires_at < now() OR l.holder = EXCLUDED.holder"
    " OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = %(prefix)s || l.holder)"
    " RETURNING term"
)
_RENEW = (
    "UPDATE dispatch_leases SET expires_at = now() + %(lease)s * interval '1 second'"
    " WHERE gateway_id = %(g)s AND term = %(t)s AND holder = %(h)s RETURNING term"
)
_RELEASE = "UPDATE dispatch_leases SET expires_at = now() WHERE gateway_id = %(g)s AND term = %(t)s AND holder = %(h)s"


class Leadership:
    """Used by the dispatch loop only (one thread); `term` and `valid()` may be read by others."""

    def __init__(self, conninfo: str, gateway_id: str, *, holder: str | None = None, keeper: LeaseKeeper | None = None) -> None:
        self.conninfo = conninfo
        # With a keeper, the process's LeaseKeeper renews this lease off the dispatch loop.
        self.keeper = keeper
        self._ended_term: int | None = None  # a term the keeper found taken over
        self._may_take = False  # the keeper saw this lease free (the dispatch loop then tries it)
        self.wake: threading.Event | None = None  # set when it may (the dispatch loop's)
        self.gateway_id = gateway_id
        # Which process holds a term, for people and tools: host, pid and a nonce (the nonce tells
        # two dispatchers of one process apart). Short enough for PostgreSQL's 63-byte names.
        self.holder = holder or f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.term: int | None = None
        self._valid_until = 0.0  # time.monotonic()
        self._renewed_at = 0.0
        # While it is connected, the holder's session is visible to replicas by its name.
        self._lease_db = LeaseConnection(conninfo, APP_NAME_PREFIX + self.holder, _log)

    @property
    def held(self) -> bool:
        return self.term is not None

    @property
    def application_name(self) -> str:
        return APP_NAME_PREFIX + self.holder

    def valid(self) -> bool:
        """True while this process provably holds the lease: it may fire and launch."""
        return self.term is not None and time.monotonic() < self._valid_until


    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or its holder's session is gone: a new term."""
        sent = time.monotonic()
        try:
            conn = self._lease_db.get()  # first: while it leads, its session is visible by its name
            if self.keeper is not None and not self._may_take:
                self.keeper.wait(self)  # a standby tries only once its keeper saw the lease free
                return False
            self._may_take = False
            row = conn.execute(
                _ACQUIRE, {"g": self.gateway_id, "h": self.holder, "lease": LEASE_SECONDS, "prefix": APP_NAME_PREFIX}
            ).fetchone()
        except psycopg.Error:
            self._warn("leadership: cannot reach the database to take the lease")
            self._lease_db.drop()
            return False
        if row is None:
            return False
        self.term = int(row[0])
        self._valid_until = sent + LEASE_SECONDS - SAFETY
        self._renewed_at = sent
        _log.info("dispatcher %s leads with term %d", self.gateway_id, self.term)
        if self.keeper is not None:
            self.keeper.join(self)
        return True

    def keep(self) -> bool:
        """Renew the lease when due. False once another took it over (this term has ended); a
        database error keeps the term but lets `valid()` lapse until a renewal succeeds."""
        if self.term is None:
            return False
        if self.keeper is not None:
            if self._ended_term != self.term:
                return True
            _log.warning("dispatcher %s lost term %s to another", self.gateway_id, self.term)
            self.keeper.leave(self)
            self.term = None
            return False
        now = time.monotonic()
        if now - self._renewed_at < RENEW_EVERY and now < self._valid_until:
            return True
        try:
            row = self._lease_db.get().execute(
                _RENEW, {"g": self.gateway_id, "t": self.term, "h": self.holder, "lease": LEASE_SECONDS}
            ).fetchone()
        except psycopg.Error:
            self._warn(f"leadership: cannot renew term {self.term}")
            self._lease_db.drop()
            return True
        self._renewed_at = now
        if row is None:
            _log.warning("dispatcher %s lost term %s to another", self.gateway_id, self.term)
            self.term = None
            return False
        self._valid_until = now + LEASE_SECONDS - SAFETY
        return True

    def release(self, *, disconnect: bool = True) -> None:
        """Step down: let a replica take over at once. With `disconnect=False` this holder's
        session stays visible (its runs still finishing are left to it) until `close()`."""
        if self.keeper is not None:
            self.keeper.leave(self)  # no renewal of this term after the release below
        term, self.term = self.term, None
        self._valid_until = 0.0
        if term is not None and self._lease_db.is_open:
            try:
                self._lease_db.get().execute(_RELEASE, {"g": self.gateway_id, "t": term, "h": self.holder})
            except psycopg.Error:
                pass
        if disconnect:
            self._lease_db.drop()

    def renewed(self, term: int, valid_until: float) -> None:
        """The keeper's thread: `term` was renewed by a statement sent before `valid_until - lease + safety`."""
        if self.term == term:
            self._valid_until = max(self._valid_until, valid_until)

    def takeable(self) -> None:
        """The keeper's thread: the lease looks free; the next `try_acquire` tries to take it."""
        self._may_take = True
        if self.wake is not None:
            self.wake.set()

    def ended(self, term: int) -> None:
        """The keeper's thread: another took the lease over; `keep()` says so to the dispatch loop."""
        if self.term == term:
            self._ended_term = term
            self._valid_until = 0.0

    def close(self) -> None:
        self.release()

    def _disconnect(self) -> None:
        self._lease_db.drop()

    def _warn(self, message: str) -> None:
        self._lease_db.warn(f"{message} ({self.gateway_id})")
