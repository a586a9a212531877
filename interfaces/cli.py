"""The `gateway-scheduler` command: serve, worker, migrate, events, projections rebuild, token issue,
jobs export and jobs import, users add|list|remove.
Exit 0 ok, 1 failure (one-line reason), 2 usage."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from datetime import timedelta

from interfaces.settings import Settings

PROJECTIONS = ("job_list", "gateways", "execution_history", "audit", "analytics")


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _runtime(settings: Settings, *, worker: bool):
    from interfaces.logs import configure_logging
    from interfaces.runtime import Runtime

    configure_logging(settings.log_json)  # before anything logs: the worker has no app to do it

    runtime = Runtime(settings).start()
    if worker:
        from interfaces.database import conninfo
        from interfaces.maintenance import Retention
        from interfaces.worker import start_worker

        runtime.closers.append(start_worker(runtime).stop)
        retention = Retention(conninfo(runtime.url), settings.execution_retention_days, runtime.clock)
        retention.start()
        runtime.closers.append(retention.stop)
    return runtime


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from interfaces.app import create_app

    runtime = _runtime(settings, worker=not args.no_worker)
    try:
        port = args.port or _free_port(args.host)
        print(f"gateway-scheduler: API on http://{args.host}:{port}/api/v1/scheduler "
              f"(gateway {settings.gateway_id}, OpenAPI at /schema)", flush=True)
        uvicorn.run(create_app(runtime, owns_runtime=True), host=args.host, port=port, log_level="warning", access_log=False)
    finally:
        runtime.close()
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    runtime = _runtime(settings, worker=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"gateway-scheduler: worker for gateway {settings.gateway_id}", flush=True)
    try:
        stop.wait()
    finally:
        runtime.close()
    return 0


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


def job_events(args: argparse.Namespace, settings: Settings) -> int:
    """A job's event history, one JSON object per line, oldest first."""
    import msgspec

    from interfaces.runtime import Runtime

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    try:
        for event in runtime.app.job_events(settings.gateway_id, args.job_id):
            fields = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
            line = {"version": event.originator_version, "type": type(event).__qualname__, **fields}
            sys.stdout.write(encode(line).decode() + "\n")
    finally:
        runtime.close()
    return 0


def projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Truncates read models and replays the event log into them; refused while any serve or
    worker process (they project into the same tables) runs on the database."""
    from interfaces.database import hold_read_models
    from interfaces.runtime import Runtime
    from projections.runner import rebuild

    runtime = Runtime(settings).start(follow=False)
    lock = hold_read_models(runtime.url, exclusive=True)
    if lock is None:
        runtime.close()
        raise RuntimeError("the read models are in use: stop every serve and worker process on this database first")
    try:
        last = runtime.app.recorder.max_notification_id() or 0
        for thread in runtime.projections:
            name = thread.projection.name
            if args.name not in ("all", name):
                continue

            def progress(count: int, position: int, name: str = name) -> None:
                print(f"\r{name}: {count:,} events, position {position:,} of {last:,}", end="", file=sys.stderr, flush=True)

            count = rebuild(runtime.app, thread.projection, on_progress=progress)
            print(f"\r{name}: rebuilt from {count:,} events" + " " * 30, file=sys.stderr, flush=True)
    finally:
        lock.close()
        runtime.close()
    return 0


def _caught_up(runtime, timeout: float = 30.0) -> bool:
    """Wait until each projection of this process has applied what the log holds for it now: a
    command reading the read models right after start reads them current."""
    recorded = []
    for thread in runtime.projections:
        topics = list(thread.projection.topics)
        row = runtime.reads.one(
            "SELECT max(notification_id) AS head FROM scheduler_events WHERE %(all)s OR topic = ANY(%(topics)s)",
            {"all": not topics, "topics": topics},
        )
        if row and row["head"]:
            recorded.append((topics[0] if topics else "", row["head"]))
    return runtime.wait(tuple(recorded), timeout)


def jobs_export(args: argparse.Namespace, settings: Settings) -> int:
    """A gateway's jobs as an export file (stdout or -o FILE), as POST /jobs/export answers it."""
    from pathlib import Path

    from interfaces.runtime import Runtime
    from interfaces.transfer import operations

    fmt = args.format or {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}.get(Path(args.output or "").suffix, "json")
    runtime = Runtime(settings).start()
    try:
        _caught_up(runtime)
        exported = operations.export_jobs(runtime, settings.gateway_id, fmt=fmt, include_history=args.include_history,
                                          include_statistics=not args.no_statistics)
    finally:
        runtime.close()
    if args.output:
        Path(args.output).write_bytes(exported.content)
        print(f"gateway-scheduler: exported to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(exported.content)
    return 0


def _bar(stage: str) -> Callable[[int, int], None]:
    """A progress bar on stderr, for files of many jobs."""

    def show(done: int, total: int) -> None:
        if total < 100:
            return
        filled = round(30 * done / total)
        end = "\n" if done == total else ""
        print(f"\r{stage} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} jobs", end=end, file=sys.stderr,
              flush=True)

    return show


def jobs_import(args: argparse.Namespace, settings: Settings) -> int:
    """An export file into a gateway through the same use case as POST /jobs/import (actor `cli`);
    prints the answer's data as JSON. IMPORT_FAILED lists each bad job on stderr (exit 1)."""
    from pathlib import Path

    import msgspec

    from domain.errors import SchedulerError
    from interfaces.runtime import Runtime
    from interfaces.transfer import operations

    path = Path(args.file)
    content = path.read_bytes()
    runtime = Runtime(settings).start()
    try:
        answer = operations.import_jobs(
            runtime, settings.gateway_id, content, path.name, strategy=args.strategy, dry_run=args.dry_run,
            plan_token=args.plan_token, actor="cli", request_id=None, on_progress=_bar("checking"),
        )
    except SchedulerError as error:
        print(f"gateway-scheduler: {error.code}: {error.message}", file=sys.stderr)
        details = error.details if isinstance(error.details, dict) else {}
        for fault in details.get("errors", []):
            print(f"  job {fault['index']} ({fault['id']}): {fault['field']}: {fault['message']}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    sys.stdout.write(msgspec.json.encode(answer).decode() + "\n")
    return 0


def projections_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Replays the log into scratch tables and compares them with the live read models: exit 1
    and each difference (counts and a few rows) when they differ. Safe while the service runs."""
    import msgspec

    from interfaces.database import eventsourcing_env
    from interfaces.runtime import Runtime
    from projections.verify import verify

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    clean = True
    try:
        env = eventsourcing_env(runtime.url, pool_size=1)
        for thread in runtime.projections:
            projection = thread.projection
            if args.name not in ("all", projection.name):
                continue
            verdict = verify(runtime.app, type(projection), type(projection.view), runtime.url, env)
            state = "clean" if verdict.clean else "DIFFERS"
            print(f"{verdict.projection}: {state} (replayed {verdict.replayed:,} events up to position {verdict.position:,})")
            for d in verdict.differences:
                clean = False
                print(f"  {d.table}: {d.only_live} row(s) only in the live read model, {d.only_replayed} only in the replay")
                for row in d.samples_live:
                    print("    live:     " + encode(row).decode())
                for row in d.samples_replayed:
                    print("    replayed: " + encode(row).decode())
    finally:
        runtime.close()
    return 0 if clean else 1


def events(args: argparse.Namespace, settings: Settings) -> int:
    """A job's event history (with a job id), or the raw log after a position: one JSON object per line."""
    if args.job_id:
        return job_events(args, settings)
    import msgspec

    from interfaces.runtime import Runtime
    from projections.event_log import decoded

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    try:
        rows = runtime.reads.all(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM scheduler_events"
            " WHERE notification_id > %(after)s ORDER BY notification_id LIMIT %(limit)s",
            {"after": args.after, "limit": args.limit},
        )
        for row in rows:
            sys.stdout.write(encode(decoded(runtime.app.mapper, row)).decode() + "\n")
    finally:
        runtime.close()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gateway-scheduler", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    p = commands.add_parser("serve", help="run the API (and this gateway's worker)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    p.add_argument("--gateway-id", help="the gateway this process works for")
    p.add_argument("--no-worker", action="store_true", help="API only, no dispatcher")
    p.set_defaults(run=serve)
    p = commands.add_parser("worker", help="run one gateway's dispatcher without the API")
    p.add_argument("--gateway-id", help="the gateway this worker fires jobs for")
    p.set_defaults(run=worker)
    p = commands.add_parser("migrate", help="apply database migrations")
    p.set_defaults(run=migrate)
    p = commands.add_parser("events", help="the event log after a position, or a job's history (JSON lines)")
    p.add_argument("job_id", nargs="?", help="only this job's events, all of them")
    p.add_argument("--after", type=int, default=0, help="the position to read after (the whole log)")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--gateway-id", help="the job's gateway")
    p.set_defaults(run=events)
    projections = commands.add_parser("projections", help="read models").add_subparsers(
        dest="projections_command", required=True)
    p = projections.add_parser("rebuild", help="replay the event log into the read models (service stopped)")
    p.add_argument("--name", default="all", choices=["all", *PROJECTIONS])
    p.set_defaults(run=projections_rebuild)
    jobs = commands.add_parser("jobs", help="export and import job files").add_subparsers(
        dest="jobs_command", required=True)
    p = jobs.add_parser("export", help="write a gateway's jobs to an export file")
    p.add_argument("--gateway-id", required=True, help="the gateway whose jobs to export")
    p.add_argument("-o", "--output", help="the file to write (its suffix picks the format); stdout otherwise")
    p.add_argument("--format", choices=["json", "yaml", "csv"], help="json unless -o names .yaml/.yml/.csv")
    p.add_argument("--include-history", action="store_true", help="each job's latest executions (not with csv)")
    p.add_argument("--no-statistics", action="store_true", help="leave the statistics out")
    p.set_defaults(run=jobs_export)
    p = jobs.add_parser("import", help="import an export file into a gateway (one transaction)")
    p.add_argument("file", help="an export file: .json, .yaml/.yml or .csv")
    p.add_argument("--gateway-id", required=True, help="the gateway to import into")
    p.add_argument("--strategy", choices=["merge", "replace"], default="merge",
                   help="merge: skip jobs whose id exists; replace: leave exactly the file's jobs")
    p.add_argument("--dry-run", action="store_true", help="print the plan and its plan_token, write nothing")
    p.add_argument("--plan-token", help="a dry run's plan_token: refused if the gateway's jobs changed since")
    p.set_defaults(run=jobs_import)
    p = projections.add_parser("verify", help="replay the log into scratch tables and compare (exit 1 on a difference)")
    p.add_argument("--name", default="all", choices=["all", *PROJECTIONS])
    p.set_defaults(run=projections_verify)
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    if getattr(args, "gateway_id", None):
        from dataclasses import replace

        settings = replace(settings, gateway_id=args.gateway_id)
    try:
        return args.run(args, settings)
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # noqa: BLE001 - one-line reason, exit 1
        print(f"gateway-scheduler: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
