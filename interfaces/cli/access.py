"""`token issue` and `users add|list|remove`: who may use the service, by API token or by a
login to the page."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from interfaces.settings import Settings


def token_issue(args: argparse.Namespace, settings: Settings) -> int:
    from interfaces.auth import issue_token

    gateways = [g.strip() for g in args.gateway.split(",") if g.strip()]
    print(issue_token(settings.secret(), subject=args.subject, role=args.role, gateways=gateways,
                      ttl=timedelta(hours=args.ttl_hours)))
    return 0


def _users(settings: Settings):
    """The users table of the configured database (migrated first); the caller closes `embedded`."""
    from interfaces.auth.users import Users
    from interfaces.database import EmbeddedPostgres
    from interfaces.database import migrate as apply

    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir / "pgdata")
    url = settings.database_url or embedded.url  # type: ignore[union-attr]
    apply(url)
    return Users(url), embedded


def _password(args: argparse.Namespace) -> str:
    """From a prompt on a terminal (asked twice), else the first line of stdin: never an argument,
    which other users of the machine would see in the process list."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def users_add(args: argparse.Namespace, settings: Settings) -> int:
    gateways = [g.strip() for g in args.gateway.split(",") if g.strip()]
    password = _password(args)
    users, embedded = _users(settings)
    try:
        user = users.add(args.name, password, args.role, gateways)
    finally:
        if embedded is not None:
            embedded.stop()
    print(f"added {user.username} ({user.role}, gateways {','.join(user.gateways)})")
    return 0


def users_list(args: argparse.Namespace, settings: Settings) -> int:
    users, embedded = _users(settings)
    try:
        for user in users.list():
            created = user.created_at.isoformat().replace("+00:00", "Z") if user.created_at else ""
            print(f"{user.username}\t{user.role}\t{','.join(user.gateways)}\t{created}")
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def users_remove(args: argparse.Namespace, settings: Settings) -> int:
    users, embedded = _users(settings)
    try:
        removed = users.remove(args.name)
    finally:
        if embedded is not None:
            embedded.stop()
    if not removed:
        raise ValueError(f"no user {args.name}")
    print(f"removed {args.name} (sessions already issued stay valid until they expire)")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    p = token.add_parser("issue", help="print a JWT")
    p.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    p.add_argument("--gateway", required=True, help="gateway id, comma-separated ids, or '*'")
    p.add_argument("--subject", default="cli")
    p.add_argument("--ttl-hours", type=float, default=24.0)
    p.set_defaults(run=token_issue)
    users = commands.add_parser("users", help="users of the page (/login)").add_subparsers(
        dest="users_command", required=True)
    p = users.add_parser("add", help="add a user; the password is read from a prompt or stdin")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    p.add_argument("--gateway", required=True, help="gateway id, comma-separated ids, or '*'")
    p.set_defaults(run=users_add)
    p = users.add_parser("list", help="users with role, gateways and creation time (tab-separated)")
    p.set_defaults(run=users_list)
    p = users.add_parser("remove", help="remove a user")
    p.add_argument("name")
    p.set_defaults(run=users_remove)
