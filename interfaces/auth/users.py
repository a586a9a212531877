"""The page's users: names with an argon2 password hash, the role and gateways their session
carries, and the record of failed sign-ins that slows down guessing (per user and per address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import dict_row

from interfaces.auth.tokens import ROLES
from interfaces.database import conninfo

_HASHER = PasswordHasher()
# A hash to verify against when the user is unknown, so an unknown name costs the same time.
_DUMMY = _HASHER.hash("not a password of anyone")
FREE_FAILURES = 3  # failures allowed before sign-in is slowed down
MAX_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class User:
    username: str
    role: str
    gateways: tuple[str, ...]
    created_at: datetime | None = None


def check_username(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 64 or any(c.isspace() or c in "\x00:" for c in name):
        raise ValueError("a username is 1 to 64 characters, without spaces or ':'")
    return name


def delay_after(failures: int) -> timedelta:
    """How long after the last failure the next attempt is heard: nothing for the first
    FREE_FAILURES, then 1 s, 2 s, 4 s ... up to MAX_DELAY."""
    if failures < FREE_FAILURES:
        return timedelta()
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - FREE_FAILURES)))


class Users:
    """The `users` and `login_failures` tables (migrations/009_users.sql)."""

    def __init__(self, url: str) -> None:
        self._conninfo = conninfo(url)

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self._conninfo, autocommit=True, row_factory=dict_row, connect_timeout=2)

    def add(self, username: str, password: str, role: str, gateways: list[str]) -> User:
        username = check_username(username)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        if not gateways:
            raise ValueError("name at least one gateway (or '*')")
        with self._connect() as conn:
            row = conn.execute(
                "INSERT INTO users (username, password_hash, role, gateways) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (username) DO NOTHING RETURNING created_at",
                (username, _HASHER.hash(password), role, gateways),
            ).fetchone()
        if row is None:
            raise ValueError(f"user {username} exists (remove it first)")
        return User(username, role, tuple(gateways), row["created_at"])

    def remove(self, username: str) -> bool:
        with self._connect() as conn:
            return conn.execute("DELETE FROM users WHERE username = %s", (username,)).rowcount == 1

    def list(self) -> list[User]:
        with self._connect() as conn:
            rows = conn.execute("SELECT username, role, gateways, created_at FROM users ORDER BY username").fetchall()
        return [User(r["username"], r["role"], tuple(r["gateways"]), r["created_at"]) for r in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise (as slow for an unknown name)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT username, role, gateways, password_hash FROM users WHERE username = %s", (username,)
            ).fetchone()
        try:
            _HASHER.verify(row["password_hash"] if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return User(row["username"], row["role"], tuple(row["gateways"]))

    def wait_needed(self, keys: list[str], now: datetime) -> timedelta:
        """How much longer the caller must wait before an attempt under these keys is heard."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT failures, last_failure FROM login_failures WHERE key = ANY(%s)", (keys,)
            ).fetchall()
        waits = [r["last_failure"] + delay_after(r["failures"]) - now for r in rows]
        return max([w for w in waits if w > timedelta()], default=timedelta())

    def record_failure(self, keys: list[str], now: datetime) -> None:
        with self._connect() as conn:
            for key in keys:
                conn.execute(
                    "INSERT INTO login_failures (key, failures, last_failure) VALUES (%s, 1, %s)"
                    " ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1, last_failure = %s",
                    (key, now, now),
                )

    def clear_failures(self, keys: list[str]) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ANY(%s)", (keys,))
