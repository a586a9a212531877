"""Storage cost of execution history and the effect of retention.

Records the executions a 10-second interval job makes in DAYS days (8,640 a day, each Started +
Succeeded with two log lines), lets the read models catch up, measures the bytes per execution in
the event store and in the read models, prunes everything older than one day, and measures again.

    .venv/bin/python bench/storage.py [--days 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.execution import Execution  # noqa: E402
from interfaces.database import EmbeddedPostgres, conninfo, create_database, drop_database  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402
from interfaces.settings import Settings  # noqa: E402
from interfaces.maintenance import prune_executions  # noqa: E402

TABLES = ("scheduler_events", "scheduler_snapshots", "executions", "execution_logs")


def sizes(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM FULL " + ", ".join(TABLES))
        return {t: conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] for t in TABLES}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=2.0)
    args = parser.parse_args()
    import os

    server_url, embedded, base = os.environ.get("DATABASE_URL"), None, None
    if not server_url:
        base = Path(tempfile.mkdtemp(prefix="gs-bench-"))
        base.chmod(0o755)
        embedded = EmbeddedPostgres(base / "pgdata")
        server_url = embedded.url
    url = create_database(server_url, "gs_bench")
    runtime = Runtime(replace(Settings(), database_url=url, jwt_secret="bench")).start()
    try:
        gateway = "gw-storage"
        job = runtime.app.create_job(gateway, {"name": "poll", "type": "interval", "schedule": {"interval_seconds": 10},
                                               "action": {"type": "publish", "topic": "device/data"}}, actor="bench").job
        count = int(args.days * 8640)
        start = datetime.now(timezone.utc) - timedelta(days=args.days)
        began = time.perf_counter()
        batch: list[Execution] = []
        recorded: tuple = ()
        for i in range(count):
            at = start + timedelta(seconds=10 * i)
            execution = Execution.start(gateway_id=gateway, job_id=job.job_id, job_name="poll", trigger="scheduled",
                                        execution_id=f"exec_{i:09d}", scheduled_for=at, now=at)
            stamp = at.isoformat().replace("+00:00", "Z")
            execution.succeed(now=at + timedelta(milliseconds=120), duration_ms=120, message="published",
                              logs=[{"timestamp": stamp, "level": "info", "message": "Publishing to device/data"},
                                    {"timestamp": stamp, "level": "info", "message": "published (qos 0)"}],
                              details={"resources": {"cpu_percent": 1.5, "memory_mb": 60.2}})
            batch.append(execution)
            if len(batch) == 500 or i == count - 1:
                saved = runtime.app.save(*batch)
                recorded = ((saved[-1].notification.topic, saved[-1].notification.id),)
                batch = []
        write_s = time.perf_counter() - began
        runtime.wait(recorded, timeout=600)
        dsn = conninfo(url)
        before = sizes(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            began = time.perf_counter()
            pruned = 0
            while (p := prune_executions(conn, datetime.now(timezone.utc) - timedelta(days=1))).executions:
                pruned += p.executions
            prune_s = time.perf_counter() - began
        after = sizes(dsn)
        print(f"executions recorded: {count} ({args.days:g} days of a 10 s job) in {write_s:.1f} s")
        print(f"{'table':22} {'before (MB)':>12} {'after (MB)':>11} {'bytes/execution':>16}")
        for t in TABLES:
            print(f"{t:22} {before[t] / 2**20:12.2f} {after[t] / 2**20:11.2f} {before[t] / count:16.0f}")
        total_b, total_a = sum(before.values()), sum(after.values())
        per = total_b / count
        print(f"{'total':22} {total_b / 2**20:12.2f} {total_a / 2**20:11.2f} {per:16.0f}")
        print(f"pruned {pruned} executions older than 1 day in {prune_s:.1f} s; storage after/before = "
              f"{total_a / total_b:.2f}")
        for days in (7, 30, 90):
            print(f"steady state for one 10 s job at retention {days:>2} d: {8640 * days * per / 2**20:8.0f} MB")
    finally:
        runtime.close()
        drop_database(server_url, url)
        if embedded is not None:
            embedded.stop()
            shutil.rmtree(base, ignore_errors=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
