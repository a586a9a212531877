"""`jobs export` and `jobs import`: a gateway's jobs to and from an export file, through the same
use cases as POST /jobs/export and POST /jobs/import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from interfaces.settings import Settings


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


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
