"""Dispatch bench: N interval jobs (periods 1..10 s) fired for S seconds by the real Dispatcher on
PostgreSQL, then by an in-memory APScheduler 3.11 BackgroundScheduler; fires and lateness of each.

    .venv/bin/python bench/dispatch.py --jobs 1000 --seconds 30

Both schedulers run one after the other in this process (never at the same time), on the same job
set: job i has period 1 + i % 10 seconds and a phase spread uniformly over its period, its first fire
at T + phase, T a whole second a little after set-up. Only fires whose nominal instant lies in
[T + 2 s, T + S - 2 s) are counted, to leave out start and stop effects. The action is a no-op that
records when it started: the bench measures the scheduler, not the action. Our dispatcher runs as
the CLI worker runs it, its passes done by a DispatchProcess's tick thread (`--own-loop`: by the
dispatcher's own loop thread, as most tests drive it).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.utils import get_topic  # noqa: E402

from application.dispatch.dispatcher import Dispatcher  # noqa: E402
from application.dispatch.process import DispatchProcess  # noqa: E402
from application.executors.log import ExecutionLog  # noqa: E402
from application.executors.ports import ExecutionContext, ExecutionResult  # noqa: E402
from application.dispatch.leadership import Leadership  # noqa: E402
from application.scheduler import Scheduler  # noqa: E402
from domain.actions import Action  # noqa: E402
from domain.execution import Execution  # noqa: E402
from domain.gateway import Gateway  # noqa: E402
from domain.job import Job  # noqa: E402
from interfaces.database import EmbeddedPostgres, conninfo, create_database, drop_database, eventsourcing_env  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dispatch_apscheduler import run_apscheduler  # noqa: E402
from dispatch_jobs import EDGE, Result, Spec, cpu_delta, expected_fires, first_ms, instant, job_specs, ms_of, rss_mb, sleep_until, thread_cpu  # noqa: E402,F401,E501

GATEWAY = "gw-bench"
ACTION = {"type": "system", "operation": "health_check"}
SLICE = 5.0  # seconds per line of the lateness-over-time table
BATCH = 200  # jobs per save during set-up (bigger batches once hung in pipeline mode; see README)


def report(results: list[Result], n: int, seconds: float, window: float) -> None:
    print()
    print(f"dispatch bench: {n} interval jobs (periods 1..10 s), {seconds:g} s run, "
          f"counted window {window:g} s; lateness = action start - scheduled instant")
    head = f"{'scheduler':<18}{'expected':>10}{'recorded':>10}{'missed':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r.name:<18}{r.expected:>10}{r.recorded:>10}{r.missed:>8}"
              f"{r.pct(0.50):>10.1f}{r.pct(0.99):>10.1f}{max(r.lateness_ms, default=float('nan')):>10.1f}")
    print()
    for r in results:
        extra = f", Execution.Missed events {r.missed_events}" if r.name == "gateway-scheduler" else ""
        dup = f", duplicate fires {r.duplicates}" if r.duplicates else ""
        print(f"{r.name}: {r.expected / window:.0f} fires/s expected, {r.recorded / window:.0f} fires/s recorded"
              f"{extra}{dup}")
        for note in r.notes:
            print(f"  note: {note}")
    print()
    print(f"lateness p99 / max (ms) and fires run, by {SLICE:g} s of scheduled time in the window:")
    edges = [int(k * SLICE * 1000) for k in range(math.ceil(window / SLICE) + 1)]
    print(f"{'scheduler':<18}" + "".join(f"{f'+{a / 1000:g}s':>22}" for a in edges[:-1]))
    for r in results:
        cells = []
        for a, b in zip(edges, edges[1:]):
            late = sorted(x for t, x in r.samples if a <= t < b)
            p99 = late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)] if late else float("nan")
            cells.append(f"{p99:.0f}/{max(late, default=float('nan')):.0f} n={len(late)}")
        print(f"{r.name:<18}" + "".join(f"{c:>22}" for c in cells))
    print()
    for r in results:
        print(f"{r.name}: CPU per fire {r.cpu_us_per_fire:.0f} us ({r.cpu_seconds:.1f} s of this process's CPU for "
              f"{r.fires_run} fires; PostgreSQL's own CPU not counted), resident memory {r.rss_mb:.0f} MiB"
              + (f", database commits {r.commits / seconds:.0f}/s ({r.commits / max(1, r.fires_run):.2f} per fire)"
                 if r.commits else ""))
    for r in results:
        if r.threads_cpu and r.fires_run:
            print(f"{r.name}: CPU per fire by thread (us): {r.cpu_by_thread()}")
    ours, theirs = results
    if ours.lateness_ms and theirs.lateness_ms and theirs.pct(0.99) > 0:
        print(f"p99 ratio gateway-scheduler / apscheduler: {ours.pct(0.99) / theirs.pct(0.99):.2f}x")
    else:
        print("p99 ratio gateway-scheduler / apscheduler: n/a (no fires ran)")


# ---- the database --------------------------------------------------------------------------------


class Database:
    """DATABASE_URL's server, else an embedded one in a fresh temp dir; a fresh migrated database."""

    def __init__(self) -> None:
        self.base: Path | None = None
        self.embedded: EmbeddedPostgres | None = None
        server = os.environ.get("DATABASE_URL")
        if not server:
            self.base = Path(tempfile.mkdtemp(prefix="gs-bench-pg-"))
            self.base.chmod(0o755)  # as root the embedded server runs as its own user
            self.embedded = EmbeddedPostgres(self.base / "pgdata")
            server = self.embedded.url
        self.server = server
        self.url = create_database(server, "gs_bench")

    def close(self) -> None:
        try:
            drop_database(self.server, self.url)
        finally:
            if self.embedded is not None:
                self.embedded.stop()
            if self.base is not None:
                shutil.rmtree(self.base, ignore_errors=True)


# ---- gateway-scheduler ---------------------------------------------------------------------------


class RecordingExecutor:
    """A no-op action that records the wall time at which it started, by execution id."""

    def __init__(self) -> None:
        self.starts: dict[str, float] = {}
        self.calls = 0

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        now = time.time()
        self.starts.setdefault(ctx.execution_id, now)  # dict writes are atomic under the GIL
        self.calls += 1
        return ExecutionResult.success("ok", ExecutionLog())


def create_jobs(app: Scheduler, specs: list[Spec], base_ms: int) -> None:
    """Set-up: Job aggregates built as Scheduler.create_job does, saved BATCH at a time."""
    gateway = app.gateway(GATEWAY) or Gateway.create(GATEWAY, datetime.now(UTC))
    for start in range(0, len(specs), BATCH):
        now = datetime.now(UTC)
        jobs = []
        for s in specs[start:start + BATCH]:
            start_at = instant(first_ms(s, base_ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            fields = {
                "id": s.job_id, "name": f"bench {s.index}", "type": "interval",
                "schedule": {"interval_seconds": s.period, "start_at": start_at}, "action": ACTION,
            }
            jobs.append(Job.create(gateway_id=GATEWAY, job_id=s.job_id, fields=fields, actor="bench", now=now))
            gateway.add_job(s.job_id, max_jobs=app.max_jobs, now=now)
        app.save(gateway, *jobs)


def recorded_executions(app: Scheduler) -> tuple[dict[tuple[str, int], list[str]], list[int]]:
    """From the event store: Started events as (job id, scheduled ms) -> execution ids, and the
    scheduled ms of each Missed event, for the bench gateway."""
    topics = [get_topic(Execution.Started), get_topic(Execution.Missed)]
    started: dict[tuple[str, int], list[str]] = {}
    missed: list[int] = []
    position = 0
    while True:
        page = app.recorder.select_notifications(position, 5000, topics=topics, inclusive_of_start=False)
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if event.gateway_id != GATEWAY or event.scheduled_for is None:
                continue
            if isinstance(event, Execution.Started):
                if event.trigger in ("scheduled", "misfire"):
                    started.setdefault((event.job_id, ms_of(event.scheduled_for)), []).append(event.execution_id)
            else:
                missed.append(ms_of(event.scheduled_for))
        if len(page) < 5000:
            return started, missed
        position = page[-1].id


def xact_commit(url: str) -> int:
    """Transactions committed in the bench's database so far (the statistics collector's count)."""
    import psycopg

    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


def profile(path: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy sampling this process's threads for `seconds` (`--profile`): raw stacks, one line each."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([spy, "record", "--pid", str(os.getpid()), "--threads", "--nonblocking", "--format", "raw",
                             "--duration", str(int(seconds)), "--output", path], stdout=subprocess.DEVNULL)


def run_ours(db: Database, specs: list[Spec], seconds: float, workers: int, lead: float, spy: str = "",
             process: bool = True) -> Result:
    """`process`: the dispatcher driven by a DispatchProcess's tick, as the CLI worker runs it;
    else by its own loop thread (`--own-loop`)."""
    app = Scheduler(eventsourcing_env(db.url, pool_size=8), max_jobs=len(specs) + 10)
    shared = DispatchProcess(app, conninfo(db.url)) if process else None
    try:
        began = time.time()
        base_ms = math.ceil(began + lead) * 1000  # a whole second
        create_jobs(app, specs, base_ms)
        created = time.time()
        executor = RecordingExecutor()
        dispatcher = Dispatcher(app, GATEWAY, executor, Leadership(conninfo(db.url), GATEWAY), max_concurrent=workers,
                                shared=shared)
        dispatcher.start()
        while len(dispatcher.index.entries) < len(specs) and time.time() < base_ms / 1000:
            time.sleep(0.01)  # leading and the due index filled
        ready = time.time()
        print(f"gateway-scheduler: {len(specs)} jobs created in {created - began:.1f} s, dispatcher leading "
              f"with {len(dispatcher.index.entries)} jobs indexed after {ready - created:.1f} s; "
              f"first fires at +{base_ms / 1000 - ready:.1f} s", flush=True)
        sleep_until(base_ms / 1000)
        profiler = profile(spy, seconds) if spy else None
        cpu0, calls0, commits0, threads0 = time.process_time(), executor.calls, xact_commit(db.url), thread_cpu(GATEWAY)
        sleep_until(base_ms / 1000 + seconds)
        cpu, calls, rss, threads = time.process_time() - cpu0, executor.calls - calls0, rss_mb(), thread_cpu(GATEWAY)
        commits = xact_commit(db.url) - commits0
        if profiler is not None:
            profiler.wait()
        stopped = time.time()
        stop_error = None
        try:
            dispatcher.stop()
        except Exception as error:  # noqa: BLE001 - report it; the fires recorded so far still count
            stop_error = f"Dispatcher.stop() raised {type(error).__name__}: {error}"
        hung = [t.name for t in dispatcher._threads if t.is_alive()]
        print(f"gateway-scheduler: stopped in {time.time() - stopped:.1f} s; {executor.calls} actions ran", flush=True)

        lo_ms, hi_ms = base_ms + int(EDGE * 1000), base_ms + int((seconds - EDGE) * 1000)
        started, missed = recorded_executions(app)
        in_window = {k: v for k, v in started.items() if lo_ms <= k[1] < hi_ms}
        result = Result(
            "gateway-scheduler", expected_fires(specs, base_ms, lo_ms, hi_ms), len(in_window),
            missed_events=sum(1 for m in missed if lo_ms <= m < hi_ms),
            duplicates=sum(len(v) - 1 for v in in_window.values()),
        )
        result.cpu_seconds, result.fires_run, result.rss_mb, result.commits = cpu, calls, rss, commits
        result.threads_cpu = cpu_delta(threads, threads0)
        not_run = 0
        for (_, scheduled_ms), ids in in_window.items():
            start = executor.starts.get(ids[0])
            if start is None:
                not_run += 1
            else:
                result.samples.append((scheduled_ms - lo_ms, start * 1000 - scheduled_ms))
        if not_run:
            result.notes.append(f"{not_run} recorded fires in the window never reached the executor")
        if ready > base_ms / 1000:
            result.notes.append(f"set-up overran the first fires by {ready - base_ms / 1000:.1f} s: raise --lead")
        if stop_error:
            result.notes.append(stop_error)
        if hung:
            result.notes.append(f"dispatcher threads still running after stop(): {', '.join(hung)}")
        return result
    finally:
        if shared is not None:
            shared.stop()
        app.close()


# ---- APScheduler ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="interval jobs (default 1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="run length of each scheduler (default 30)")
    parser.add_argument("--workers", type=int, default=64, help="max concurrent actions, both schedulers")
    parser.add_argument("--lead", type=float, default=None,
                        help="seconds from set-up start to the first fires (default 5 + 1.5 ms per job)")
    parser.add_argument("--ceiling", type=float, default=0.0, metavar="SECONDS",
                        help="then find the largest N (10k, 20k, ...) with zero missed and p99 < 250 ms, "
                             "ours only, stopping after SECONDS (default 0: no search)")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="py-spy's raw stacks of our run's window, by thread, written to FILE")
    parser.add_argument("--own-loop", action="store_true",
                        help="drive the dispatcher by its own loop thread (as the tests do) instead of a "
                             "DispatchProcess's tick thread, as the CLI worker runs it")
    args = parser.parse_args()
    if args.seconds <= 2 * EDGE + 1:
        parser.error(f"--seconds must be more than {2 * EDGE + 1:g}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    lead = args.lead if args.lead is not None else 5 + 0.0015 * args.jobs
    specs = job_specs(args.jobs)

    db = Database()
    try:
        ours = run_ours(db, specs, args.seconds, args.workers, lead, args.profile, not args.own_loop)
    finally:
        db.close()
    theirs = run_apscheduler(specs, args.seconds, args.workers, lead=3 + 0.0003 * args.jobs)
    report([ours, theirs], args.jobs, args.seconds, args.seconds - 2 * EDGE)
    if args.ceiling > 0:
        ceiling(args.seconds, args.workers, args.ceiling, not args.own_loop)


def ceiling(seconds: float, workers: int, budget: float, process: bool) -> None:
    """Ours alone at 10,000 jobs, then 20,000, ... while zero missed and p99 < 250 ms, within budget."""
    stop_at, best, n = time.monotonic() + budget, 0, 10_000
    rows = []
    while time.monotonic() < stop_at:
        db = Database()
        try:
            result = run_ours(db, job_specs(n), seconds, workers, 5 + 0.0015 * n, process=process)
        finally:
            db.close()
        ok = result.missed == 0 and result.pct(0.99) < 250
        rows.append((n, result, ok))
        print(f"ceiling: {n} jobs: missed {result.missed}, p99 {result.pct(0.99):.1f} ms, "
              f"CPU per fire {result.cpu_us_per_fire:.0f} us, RSS {result.rss_mb:.0f} MiB: {'ok' if ok else 'over'}",
              flush=True)
        if not ok:
            break
        best, n = n, n + 10_000
    else:
        print(f"ceiling: time budget of {budget:g} s spent", flush=True)
    print(f"ceiling: largest N with zero missed and p99 < 250 ms: {best or 'none'} "
          f"({len(rows)} sizes tried; --seconds {seconds:g} each)")


if __name__ == "__main__":
    main()
