"""Commands in-process, without HTTP: what one create costs in CPU, transactions and time, and how
group commit batches them, at 1, 4, 16 and 64 concurrent callers.

Run: .venv/bin/python bench/commands.py [--per-thread 40] [--profile out.pstats]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL in a fresh temp dir; a fresh
  database is created, migrated, and dropped at the end.
- The composition root as the API runs it (interfaces/runtime.Runtime, projections following);
  each caller does what POST /jobs does after parsing: `app.execute(CreateJob)` then
  `runtime.wait(saved.recorded)` (read-your-writes), in one gateway (a fresh one per row).
- Figures per row: commands/s, p50/p99 of execute and of execute+wait (ms), process CPU per
  command (all threads: the load-independent figure; also net of the CPU the idle process spends,
  measured for 2 s before the rows), write transactions per command (transaction ids taken, every
  session's: events and read models), statements this process sent per command (every thread's:
  the commands', the subscriptions' and the views'), round trips per command (those statements
  and the transaction commands BEGIN/COMMIT/ROLLBACK), and the batch sizes
  group commit formed (mean, max, batches).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from application.commands import CommandContext, CreateJob  # noqa: E402
from interfaces.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402

ACTION = {"type": "publish", "topic": "bench/commands", "payload_template": "x"}


def _create(gateway_id: str, i: int) -> CreateJob:
    return CreateJob(gateway_id=gateway_id, name=f"job {i}", type="interval", schedule={"interval_seconds": 60},
                     action=ACTION, tags=("bench",))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] * 1000 if values else float("nan")


def _xid(conn: Any) -> int:
    """The next transaction id, taking one: write transactions between two calls = delta - 1
    (pg_stat_database's counts reach it up to seconds late)."""
    return int(conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0])


class StatementCount:
    """Statements this process sends (psycopg's Cursor.execute, every thread; a multi-statement
    message counts once), and with the transaction commands (BEGIN, COMMIT, ROLLBACK) the round
    trips: deterministic where wall and CPU figures are not on a loaded machine."""

    def __init__(self) -> None:
        import psycopg
        from psycopg._connection_base import BaseConnection

        self.count = 0
        self.commands = 0
        execute = psycopg.Cursor.execute
        command = BaseConnection._exec_command

        def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1  # a racy += undercounts by a few at most; figures are per 100s of commands
            return execute(cursor, *args, **kwargs)

        def counted_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return command(conn, *args, **kwargs)

        psycopg.Cursor.execute = counted  # type: ignore[method-assign]
        BaseConnection._exec_command = counted_command  # type: ignore[method-assign]


def idle_cpu(seconds: float = 2.0) -> float:
    """The process's CPU per second while no command runs (subscriptions' polls, pool upkeep)."""
    cpu0 = time.process_time()
    time.sleep(seconds)
    return (time.process_time() - cpu0) / seconds


def run_row(runtime: Any, conn: Any, threads: int, per_thread: int, batches: list[int], idle: float,
            statements: StatementCount) -> dict[str, Any]:
    gateway_id = f"gw-cmd-{threads}-{uuid.uuid4().hex[:6]}"
    context = CommandContext("bench", None)
    runtime.app.execute(_create(gateway_id, -1), context)  # the gateway exists: every row creates into one
    executes: list[float] = []
    totals: list[float] = []
    barrier = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            t0 = time.perf_counter()
            saved = runtime.app.execute(_create(gateway_id, t * per_thread + i), context)
            t1 = time.perf_counter()
            if not runtime.wait(saved.recorded):
                raise RuntimeError("read side did not catch up within 5 s")
            t2 = time.perf_counter()
            executes.append(t1 - t0)
            totals.append(t2 - t0)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    time.sleep(0.05)
    xid0, cpu0, batches0 = _xid(conn), time.process_time(), len(batches)
    sent0, commands0 = statements.count, statements.commands
    t0 = time.perf_counter()
    barrier.wait()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    sent = statements.count - sent0 - 1
    trips = sent + statements.commands - commands0
    writes = _xid(conn) - xid0 - 1
    formed = batches[batches0:]
    n = threads * per_thread
    return {
        "threads": threads, "commands": n, "rate": n / wall, "exec_p50": _pct(executes, 50),
        "exec_p99": _pct(executes, 99), "p50": _pct(totals, 50), "p99": _pct(totals, 99),
        "cpu_us": cpu / n * 1e6, "net_us": (cpu - idle * wall) / n * 1e6, "tx": writes / n, "statements": sent / n, "trips": trips / n, "batch_mean": sum(formed) / len(formed) if formed else 0,
        "batch_max": max(formed) if formed else 0, "batches": len(formed),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-thread", type=int, default=40)
    parser.add_argument("--threads", default="1,4,16,64")
    parser.add_argument("--profile", help="cProfile the x1 row into this file")
    args = parser.parse_args()

    import psycopg

    from interfaces.runtime import Runtime
    from interfaces.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="gs-cmd-"))
    tmp.chmod(0o755)
    embedded = None
    server_url = os.environ.get("DATABASE_URL") or ""
    db_url = None
    runtime = None
    try:
        if not server_url:
            embedded = EmbeddedPostgres(tmp / "pgdata")
            server_url = embedded.url
        db_url = create_database(server_url, "gs_cmd")
        settings = replace(Settings(), database_url=db_url, data_dir=tmp / "data", max_jobs_per_gateway=1_000_000,
                           jwt_secret="x")
        statements = StatementCount()
        runtime = Runtime(settings).start()
        batches: list[int] = []
        committer = runtime.app.committer
        run = committer._run

        def counted(items: list[Any]) -> Any:
            batches.append(len(items))
            return run(items)

        committer._run = counted  # type: ignore[method-assign]
        conn = psycopg.connect(db_url, autocommit=True)
        shown = [conn.execute(f"SHOW {name}").fetchone()[0] for name in ("fsync", "synchronous_commit", "wal_sync_method")]
        print(f"server: fsync {shown[0]}, synchronous_commit {shown[1]}, wal_sync_method {shown[2]}")
        for _ in range(20):  # warm-up: caches, prepared statements, pools
            runtime.wait(runtime.app.execute(_create("gw-cmd-warm", 0), CommandContext("bench", None)).recorded)
        idle = idle_cpu()
        print(f"idle: {idle * 1e3:.1f} ms CPU per second")
        print(f"{'callers':>8}{'cmd/s':>9}{'exec p50':>10}{'exec p99':>10}{'+wait p50':>10}{'+wait p99':>10}"
              f"{'CPU us/cmd':>11}{'net of idle':>12}{'writes/cmd':>11}{'stmts/cmd':>10}{'trips/cmd':>10}"
              f"{'batch mean/max (n)':>22}")
        for threads in (int(t) for t in args.threads.split(",")):
            if args.profile and threads == 1:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                r = run_row(runtime, conn, threads, args.per_thread, batches, idle, statements)
                profiler.disable()
                profiler.dump_stats(args.profile)
            else:
                r = run_row(runtime, conn, threads, args.per_thread, batches, idle, statements)
            print(f"{r['threads']:>8}{r['rate']:>9.0f}{r['exec_p50']:>10.1f}{r['exec_p99']:>10.1f}{r['p50']:>10.1f}"
                  f"{r['p99']:>10.1f}{r['cpu_us']:>11.0f}{r['net_us']:>12.0f}{r['tx']:>11.2f}{r['statements']:>10.1f}{r['trips']:>10.1f}"
                  f"{r['batch_mean']:>12.1f} / {r['batch_max']} ({r['batches']})", flush=True)
        conn.close()
    finally:
        if runtime is not None:
            runtime.close()
        if db_url is not None:
            drop_database(server_url, db_url)
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
