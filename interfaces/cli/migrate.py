"""`migrate`: applies the database migrations (to the embedded PostgreSQL when no
DATABASE_URL is set)."""

from __future__ import annotations

import argparse

from interfaces.settings import Settings


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    from interfaces.database import EmbeddedPostgres
    from interfaces.database import migrate as apply

    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir / "pgdata")
    try:
        applied = apply(settings.database_url or embedded.url)  # type: ignore[union-attr]
    finally:
        if embedded is not None:
            embedded.stop()
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("migrate", help="apply database migrations")
    p.set_defaults(run=migrate)
