"""Fleet bench: G gateways of J interval jobs each (periods 1..10 s, a no-op action that records when
it started) dispatched by P worker processes on ONE private PostgreSQL cluster, one worker process
killed with kill -9 halfway; then one gateway of G x J jobs on the same cluster for the same time.

    .venv/bin/python bench/fleet.py --gateways 200 --jobs-per-gateway 50 --processes 4 --seconds 60

Each worker process (this file with --child) runs the dispatchers of G / P gateways (the gateway's
worker as interfaces/worker.py composes it: one Scheduler application per process shared by its
dispatchers, a Leadership and a Dispatcher per gateway) and, once all of them lead, a standby
dispatcher for each gateway of the next process (a ring), so the leadership lease
(application/dispatch/leadership.py) moves the killed process's gateways to another process.
The fleet's jobs are the single gateway's jobs cut into G blocks, so both make the same instants.

Printed: lateness (action start - scheduled instant) p99 per gateway (median and worst over the
gateways) and overall, instants expected in the counted window against Execution.Started recorded
in the event store (missed), takeover per killed gateway (kill -9 to its first action started by
another process), database commits per second (pg_stat_database.xact_commit delta over the window),
connections and threads.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dispatch_jobs import (  # noqa: E402
    EDGE,
    Spec,
    expected_fires,
    first_ms,
    instant,
    job_specs,
    ms_of,
    sleep_until,
)

ACTION = {"type": "system", "operation": "health_check"}  # never run: the bench's executor records and returns


def gateway_name(g: int) -> str:
    return f"fleet-{g:04d}"


def job_id(gateway: str, spec: Spec) -> str:
    return f"{gateway}-j{spec.index:05d}"


# ---- a worker process --------------------------------------------------------------------------


class RecordingExecutor:
    """A no-op action recording (execution id, wall time of its start); a thread appends them to a
    file every 0.2 s so that a process killed with kill -9 leaves all but its last moment."""

    def __init__(self, out: Path) -> None:
        self.starts: list[tuple[str, float]] = []
        self.out = out
        threading.Thread(target=self._flush_loop, daemon=True, name="recorder").start()

    def execute(self, action, ctx):
        from application.executors.log import ExecutionLog
        from application.executors.ports import ExecutionResult

        self.starts.append((ctx.execution_id, time.time()))  # list appends are atomic under the GIL
        return ExecutionResult.success("ok", ExecutionLog())

    def _flush_loop(self) -> None:
        done = 0
        with self.out.open("a") as f, self.out.with_suffix(".cpu").open("a") as cpu:
            while True:
                time.sleep(0.2)
                upto = len(self.starts)
                f.write("".join(f"{e} {t:.6f}\n" for e, t in self.starts[done:upto]))
                f.flush()
                done = upto
                cpu.write(f"{time.time():.3f} {time.process_time():.3f}\n")  # this process's CPU so far
                cpu.flush()


def child(args: argparse.Namespace) -> None:
    from application.dispatch.dispatcher import Dispatcher
    from application.dispatch.job_feed import JobFeedHub
    from application.dispatch.leadership import Leadership
    from application.dispatch.process import DispatchProcess
    from application.scheduler import Scheduler
    from interfaces.database import conninfo, eventsourcing_env

    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s {args.name} %(levelname)s %(name)s: %(message)s")
    app = Scheduler(eventsourcing_env(args.url, pool_size=args.pool), max_jobs=100_000)
    executor = RecordingExecutor(Path(args.out))
    dsn = conninfo(args.url)
    dispatchers = []
    # As interfaces/worker.py: one DispatchProcess per process; --per-gateway keeps only the shared
    # subscription (decision 86), --own-feeds not even that.
    shared = None if args.own_feeds or args.per_gateway else DispatchProcess(app, dsn)
    hub = None if args.own_feeds or shared else JobFeedHub(app)

    def start(gateways: list[str]) -> list:
        started = []
        for gw in gateways:
            d = Dispatcher(app, gw, executor, Leadership(dsn, gw), max_concurrent=args.max_concurrent,
                           feeds=hub, shared=shared)
            d.start()
            started.append(d)
        return started

    primary = [g for g in args.primary.split(",") if g]
    standby = [g for g in args.standby.split(",") if g]
    began = time.time()
    mine = start(primary)
    dispatchers += mine
    deadline = time.monotonic() + 300
    while not all(d.leadership.held for d in mine) and time.monotonic() < deadline:
        time.sleep(0.1)
    led = sum(d.leadership.held for d in mine)
    print(f"leading {led}/{len(mine)} after {time.time() - began:.1f} s", flush=True)
    if standby:  # only once every process leads its own gateways (the parent says so)
        signal.sigwait({signal.SIGUSR1})
    dispatchers += start(standby)
    print(f"ready: {len(dispatchers)} dispatchers, {threading.active_count()} threads, "
          f"{time.time() - began:.1f} s", flush=True)
    signal.sigwait({signal.SIGTERM})
    if shared is not None:
        t = shared.ticker
        print(f"tick: {t.passes} passes, mean {t.pass_seconds / max(1, t.passes) * 1e3:.1f} ms, "
              f"longest {t.longest_pass * 1e3:.0f} ms; {shared.commits.transactions} transactions of "
              f"{shared.commits.records} records", flush=True)
    os._exit(0)


def _block_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})


class Child:
    def __init__(self, name: str, url: str, base: Path, primary: list[str], standby: list[str], args,
                 max_concurrent: int) -> None:
        self.name, self.out, self.log = name, base / f"{name}.starts", base / f"{name}.log"
        cmd = [sys.executable, __file__, "--child", "--name", name, "--url", url,
               "--out", str(self.out), "--primary", ",".join(primary), "--standby", ",".join(standby),
               "--pool", str(args.pool), "--max-concurrent", str(max_concurrent)] + (
                   ["--own-feeds"] if args.own_feeds else []) + (["--per-gateway"] if args.per_gateway else [])
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.primary = primary

    def leading(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
        return b"leading" in self.log.read_bytes()

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
        return b"ready:" in self.log.read_bytes()

    def status(self) -> str:
        return " | ".join(line for line in self.log.read_text().splitlines() if line.startswith(("leading", "ready")))

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cpu(self, lo: float, hi: float) -> float:
        """CPU seconds this process used between wall times lo and hi (up to its death)."""
        samples = [tuple(map(float, line.split())) for line in self.out.with_suffix(".cpu").read_text().splitlines()
                   if len(line.split()) == 2] if self.out.with_suffix(".cpu").exists() else []
        inside = [c for t, c in samples if lo <= t <= hi]
        return inside[-1] - inside[0] if len(inside) > 1 else 0.0

    def starts(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.out.exists():
            for line in self.out.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2:
                    out.setdefault(parts[0], float(parts[1]))
        return out


# ---- set-up and measurement -------------------------------------------------------------------


def create_jobs(app, blocks: dict[str, list[Spec]], base_ms: int) -> None:
    from domain.gateway import Gateway
    from domain.job import Job

    for gw, specs in blocks.items():
        gateway = Gateway.create(gw, datetime.now(UTC))
        for start in range(0, len(specs), 200):
            now = datetime.now(UTC)
            jobs = []
            for s in specs[start:start + 200]:
                start_at = instant(first_ms(s, base_ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                jid = job_id(gw, s)
                fields = {"id": jid, "name": f"bench {s.index}", "type": "interval",
                          "schedule": {"interval_seconds": s.period, "start_at": start_at}, "action": ACTION}
                jobs.append(Job.create(gateway_id=gw, job_id=jid, fields=fields, actor="bench", now=now))
                gateway.add_job(jid, max_jobs=100_000, now=now)
            app.save(gateway, *jobs)


def started_events(app, gateways: set[str]) -> tuple[dict[str, tuple[str, int]], int]:
    """Execution.Started of scheduled fires: execution id -> (gateway, scheduled ms); and how many
    (gateway, job, instant) were started more than once."""
    from eventsourcing.utils import get_topic

    from domain.execution import Execution

    out: dict[str, tuple[str, int]] = {}
    seen: set[tuple[str, str, int]] = set()
    doubled, position = 0, 0
    while True:
        page = app.recorder.select_notifications(position, 5000, topics=[get_topic(Execution.Started)],
                                                 inclusive_of_start=False)
        for n in page:
            e = app.mapper.to_domain_event(n)
            if e.gateway_id in gateways and e.scheduled_for is not None and e.trigger in ("scheduled", "misfire"):
                key = (e.gateway_id, e.job_id, ms_of(e.scheduled_for))
                doubled += key in seen
                seen.add(key)
                out[e.execution_id] = (e.gateway_id, key[2])
        if len(page) < 5000:
            return out, doubled
        position = page[-1].id


def pct(data: list[float], q: float) -> float:
    data = sorted(data)
    return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))] if data else float("nan")


def xact_commit(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
                   .fetchone()[0])


def server_cpu(pgdata: Path) -> float:
    """CPU seconds of the cluster so far: the postmaster, its live backends and those ended."""
    import psutil

    postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    t = postmaster.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in postmaster.children():
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def connections(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                   .fetchone()[0])


def run_phase(label: str, app, url: str, base: Path, blocks: dict[str, list[Spec]], processes: int, seconds: float,
              kill: bool, args, max_concurrent: int) -> dict:
    gws = list(blocks)
    lead_ms = math.ceil(time.time() + 2) * 1000
    t = time.time()
    create_jobs(app, blocks, lead_ms)
    print(f"{label}: {sum(map(len, blocks.values()))} jobs in {len(gws)} gateways created in {time.time() - t:.1f} s",
          flush=True)
    per = math.ceil(len(gws) / processes)
    parts = [gws[i * per:(i + 1) * per] for i in range(processes)]
    children = []
    for i, part in enumerate(parts):
        standby = parts[(i - 1) % processes] if kill and processes > 1 else []  # process i stands by for i-1's
        children.append(Child(f"{label}-p{i}", url, base, part, standby, args, max_concurrent))
    t = time.time()
    deadline = time.monotonic() + args.startup
    while not all(c.leading() for c in children):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: processes not leading within {args.startup:g} s")
        time.sleep(0.5)
    for c in children:
        os.kill(c.proc.pid, signal.SIGUSR1)
    while not all(c.ready() for c in children):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: processes not ready within {args.startup:g} s: "
                               + "; ".join(f"{c.name}: {c.status()}" for c in children))
        time.sleep(0.5)
    print(f"{label}: {processes} processes ready in {time.time() - t:.1f} s: "
          + "; ".join(f"{c.name}: {c.status()}" for c in children), flush=True)
    lo = math.ceil(time.time() + EDGE) * 1000
    hi = lo + int(seconds * 1000)
    sleep_until(lo / 1000)
    conns, commits0, server0 = connections(url), xact_commit(url), server_cpu(args.pgdata)
    killed_at, victim = None, None
    if kill:
        sleep_until(lo / 1000 + seconds / 2)
        victim = children[0]
        killed_at = time.time()
        victim.kill9()
        print(f"{label}: kill -9 of {victim.name} ({len(victim.primary)} gateways) at +{seconds / 2:g} s", flush=True)
    sleep_until(hi / 1000)
    commits, server = xact_commit(url) - commits0, server_cpu(args.pgdata) - server0
    sleep_until(hi / 1000 + 2)  # the window's last actions reach the files
    starts_by = {c.name: c.starts() for c in children}
    worker_cpu = sum(c.cpu(lo / 1000, hi / 1000) for c in children)
    for c in children:
        c.stop()
    ticks = [line for c in children for line in c.log.read_text().splitlines() if line.startswith("tick:")]
    all_specs = {gw: specs for gw, specs in blocks.items()}
    started, doubled = started_events(app, set(gws))
    lateness: dict[str, list[float]] = {gw: [] for gw in gws}
    recorded: dict[str, int] = {gw: 0 for gw in gws}
    never_ran = 0
    starts = {}
    for name, got in starts_by.items():
        for e, t0 in got.items():
            starts.setdefault(e, (t0, name))
    takeover: dict[str, float] = {}
    for e, (gw, sched) in started.items():
        if not lo <= sched < hi:
            continue
        recorded[gw] += 1
        if e not in starts:
            never_ran += 1
            continue
        t0, name = starts[e]
        lateness[gw].append(t0 * 1000 - sched)
        if victim is not None and gw in victim.primary and name != victim.name and t0 > killed_at:
            takeover[gw] = min(takeover.get(gw, math.inf), t0 - killed_at)
    expected = {gw: expected_fires(all_specs[gw], lead_ms, lo, hi) for gw in gws}
    return dict(label=label, gateways=len(gws), processes=processes, max_concurrent=max_concurrent, lateness=lateness, recorded=recorded,
                expected=expected, doubled=doubled, never_ran=never_ran, commits=commits, seconds=seconds,
                connections=conns, takeover=takeover, worker_cpu=worker_cpu, server_cpu=server, victim=victim.primary if victim else [],
                status="; ".join(c.status() for c in children), ticks=ticks)


def report(r: dict) -> None:
    all_late = [x for v in r["lateness"].values() for x in v]
    p99s = [pct(v, 0.99) for v in r["lateness"].values() if v]
    exp, rec = sum(r["expected"].values()), sum(r["recorded"].values())
    print(f"\n== {r['label']}: {r['gateways']} gateways over {r['processes']} processes, {r['max_concurrent']} actions at once"
          f" per gateway, {r['seconds']:g} s window")
    print(f"  lateness overall p50 {pct(all_late, 0.5):.1f} ms, p99 {pct(all_late, 0.99):.1f} ms, "
          f"max {max(all_late, default=float('nan')):.1f} ms ({len(all_late)} actions)")
    if len(p99s) > 1:
        print(f"  per-gateway p99: median {statistics.median(p99s):.1f} ms, worst {max(p99s):.1f} ms")
    print(f"  instants expected {exp}, recorded {rec}, missed {exp - rec}; started twice {r['doubled']}; "
          f"recorded but not run {r['never_ran']}")
    if r["victim"]:
        victim = set(r["victim"])
        ve = sum(v for g, v in r["expected"].items() if g in victim)
        vr = sum(v for g, v in r["recorded"].items() if g in victim)
        others = [x for g, v in r["lateness"].items() if g not in victim for x in v]
        print(f"  killed process's {len(victim)} gateways: expected {ve}, recorded {vr}, missed {ve - vr}; "
              f"the other gateways: missed {exp - rec - (ve - vr)}, lateness p99 {pct(others, 0.99):.1f} ms")
        tk = sorted(r["takeover"].values())
        print(f"  takeover (kill -9 to the gateway's first action from another process): "
              f"{len(tk)}/{len(victim)} gateways, median {statistics.median(tk) if tk else float('nan'):.2f} s, "
              f"max {max(tk, default=float('nan')):.2f} s")
    print(f"  database commits {r['commits'] / r['seconds']:.0f}/s ({r['commits'] / max(1, rec):.2f} per fire), "
          f"client connections {r['connections']}")
    print(f"  CPU per fire recorded: workers {r['worker_cpu'] / max(1, rec) * 1e6:.0f} us "
          f"({r['worker_cpu'] / r['seconds']:.2f} cores), PostgreSQL {r['server_cpu'] / max(1, rec) * 1e6:.0f} us "
          f"({r['server_cpu'] / r['seconds']:.2f} cores)")
    print(f"  processes: {r['status']}")
    for line in r["ticks"]:  # each surviving process's tick thread (ProcessTick)
        print(f"  {line}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateways", type=int, default=200)
    p.add_argument("--jobs-per-gateway", type=int, default=50)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60.0, help="counted window of each phase (default 60)")
    p.add_argument("--max-connections", type=int, default=2000)
    p.add_argument("--pool", type=int, default=16, help="each process's application pool (default 16)")
    p.add_argument("--max-concurrent", type=int, default=5, help="actions at once per fleet dispatcher (default 5)")
    p.add_argument("--single-max-concurrent", type=int, default=0,
                   help="actions at once of the one-gateway baseline (default: the fleet's total, max-concurrent x gateways)")
    p.add_argument("--startup", type=float, default=600.0, help="seconds the processes may take to lead")
    p.add_argument("--own-feeds", action="store_true",
                   help="a job-event subscription per dispatcher (the code before the shared one)")
    p.add_argument("--per-gateway", action="store_true",
                   help="lease renewals and commits per dispatcher (the code before decisions 96-97)")
    p.add_argument("--no-single", action="store_true", help="skip the one-gateway baseline")
    p.add_argument("--keep", action="store_true")
    for hidden in ("--child", ):
        p.add_argument(hidden, action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--name", "--url", "--out", "--primary", "--standby"):
        p.add_argument(hidden, default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _block_signals()  # before any thread starts, so sigwait receives them
        child(args)
        return
    logging.basicConfig(level=logging.WARNING)
    from application.scheduler import Scheduler
    from interfaces.database import eventsourcing_env, migrate
    from tests.faults.processes import PgCluster

    base = Path(tempfile.mkdtemp(prefix="gs-fleet-"))
    base.chmod(0o755)
    cluster = PgCluster(base / "pg")
    with (cluster.pgdata / "postgresql.conf").open("a") as conf:  # the last setting wins
        conf.write(f"max_connections = {args.max_connections}\nshared_buffers = 128MB\n")
    cluster.start()
    args.pgdata = cluster.pgdata
    app = None
    try:
        url = cluster.create_database("fleet")
        migrate(url)
        app = Scheduler(eventsourcing_env(url, pool_size=2), max_jobs=100_000)
        n = args.gateways * args.jobs_per_gateway
        specs = job_specs(n)
        print(f"fleet bench: {n} jobs; private PostgreSQL on port {cluster.port}, max_connections "
              f"{args.max_connections}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        blocks = {gateway_name(g): specs[g * args.jobs_per_gateway:(g + 1) * args.jobs_per_gateway]
                  for g in range(args.gateways)}
        fleet = run_phase("fleet", app, url, base, blocks, args.processes, args.seconds, True, args, args.max_concurrent)
        report(fleet)
        if not args.no_single:
            total = args.single_max_concurrent or args.max_concurrent * args.gateways
            single = run_phase("single", app, url, base, {"single-0000": specs}, 1, args.seconds, False, args, total)
            report(single)
            fl = [x for v in fleet["lateness"].values() for x in v]
            sl = [x for v in single["lateness"].values() for x in v]
            per_fire = lambda r, k: r[k] / max(1, sum(r["recorded"].values()))  # noqa: E731
            print(f"\nfleet / single: overall lateness p99 {pct(fl, 0.99) / pct(sl, 0.99):.2f}x, "
                  f"commits/s {fleet['commits'] / max(1, single['commits']):.1f}x, commits per fire "
                  f"{per_fire(fleet, 'commits') / max(1e-9, per_fire(single, 'commits')):.1f}x, worker CPU per fire "
                  f"{per_fire(fleet, 'worker_cpu') / max(1e-9, per_fire(single, 'worker_cpu')):.1f}x, PostgreSQL CPU "
                  f"per fire {per_fire(fleet, 'server_cpu') / max(1e-9, per_fire(single, 'server_cpu')):.1f}x")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if app is not None:
            app.close()
        cluster.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
