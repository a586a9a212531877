"""Every fleet-operation figure of issue 12 in one run, each against its baseline measured in the
same run, with PASS/FAIL where the issue sets a target.

    .venv/bin/python bench/fleet_ops.py [--jobs 1000] [--rounds 3] [--check-rounds 30]

- Bulk operations on a gateway of N jobs: disable-all and the deadline's re-enable, against the
  store's ceiling for the same kind and number of events (one Job.Toggled per job put in one
  transaction by `app.events.put`, with no loading or deciding): time, events/s, ratio.
- Import of N jobs in one file and the export of them (bench/transfer.py's figures: the import's
  events/s against the same events saved in one `app.save`; target: import under 3 s).
- A conflict check against N jobs of mixed schedules over 7 days, daily and hourly cron candidates,
  p50/p95 with the runs kept and with nothing kept (bench/conflicts.py's figures; target: p95 under
  500 ms).
A figure is a function taking the Bench and returning its lines; FIGURES lists them in order.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from application.commands import CommandContext, DisableAll, ReenableDisabled  # noqa: E402
from application.commands.gateways import gateway_or_new  # noqa: E402
from bench import conflicts, transfer  # noqa: E402
from bench.support import load, started_runtime  # noqa: E402
from domain.job import Job  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402


@dataclass
class Bench:
    runtime: Runtime
    gateway_id: str
    jobs: int
    rounds: int
    check_rounds: int = 30
    ceiling: float = 0.0  # events/s of the store's batched put, measured first

    def ratio(self, events: int, seconds: float) -> str:
        rate = events / seconds if seconds else float("inf")
        return f"{rate:,.0f} events/s, {rate / self.ceiling:.2f} of the ceiling"


def populate(bench: Bench) -> None:
    """The gateway's jobs, saved in batches (setup, not measured)."""
    app, now = bench.runtime.app, bench.runtime.clock()
    app.max_jobs = max(app.max_jobs, bench.jobs)
    gateway = gateway_or_new(app, bench.gateway_id)
    schedules = [
        ("interval", {"interval_seconds": 60}), ("cron", {"cron_expression": "*/5 * * * *", "timezone": "Europe/Berlin"}),
        ("interval", {"interval_seconds": 3600}),
    ]
    jobs = []
    for i in range(bench.jobs):
        kind, schedule = schedules[i % len(schedules)]
        fields = {"name": f"job {i}", "type": kind, "schedule": schedule,
                  "action": {"type": "publish", "topic": f"device/{i}/poll"}, "tags": [f"t{i % 7}"]}
        job = Job.create(gateway_id=bench.gateway_id, job_id=f"job_{i:05d}", fields=fields, actor="bench", now=now)
        gateway.add_job(job.job_id, max_jobs=bench.jobs, now=now)
        jobs.append(job)
    for start in range(0, len(jobs), 250):
        app.save(*([gateway] if start == 0 else []), *jobs[start:start + 250])
    app.save(gateway)


def store_ceiling(bench: Bench) -> list[str]:
    """One Toggled per job, as disable-all records, put in one transaction (the best the store does)."""
    app, now = bench.runtime.app, bench.runtime.clock()
    best = float("inf")
    for _ in range(bench.rounds):
        gateway = app.gateway(bench.gateway_id)
        assert gateway is not None
        jobs = [app.job(bench.gateway_id, job_id) for job_id in gateway.job_ids]
        events = []
        for job in jobs:
            job.toggle(not job.enabled, "ceiling", actor="bench", now=now)
            events.extend(job.collect_events())
        began = time.perf_counter()
        app.events.put(events)
        best = min(best, time.perf_counter() - began)
        # Back as they were, so the next figure starts from every job enabled.
        restore = []
        for job in jobs:
            job.toggle(True, "ceiling", actor="bench", now=now)
            restore.extend(job.collect_events())
        app.events.put(restore)
    bench.ceiling = bench.jobs / best
    return [f"store ceiling: {bench.jobs} Job.Toggled in one put: {best * 1000:.0f} ms, {bench.ceiling:,.0f} events/s"]


def disable_then_enable(bench: Bench) -> list[str]:
    """Disable-all of every job (one command, one transaction), then the deadline's re-enable of
    them; and how long until the read models show each (the projections apply event by event)."""
    app = bench.runtime.app
    disable, enable, caught_up = [], [], []
    for round_no in range(bench.rounds):
        context = CommandContext("bench", None, f"00000000-0000-4000-8000-{round_no:012d}")
        began = time.perf_counter()
        saved = app.execute(DisableAll(bench.gateway_id, "bench"), context)
        disable.append(time.perf_counter() - began)
        assert len(saved.report) == bench.jobs, len(saved.report)
        began = time.perf_counter()
        bench.runtime.wait(saved.recorded, timeout=600)
        caught_up.append(time.perf_counter() - began)
        began = time.perf_counter()
        saved = app.execute(ReenableDisabled(bench.gateway_id, context.operation_id), context)
        enable.append(time.perf_counter() - began)
        assert len(saved.report) == bench.jobs, len(saved.report)
        bench.runtime.wait(saved.recorded, timeout=600)
    d, e, c = statistics.median(disable), statistics.median(enable), statistics.median(caught_up)
    return [
        f"disable-all of {bench.jobs} jobs: {d * 1000:.0f} ms (median of {bench.rounds}), {bench.ratio(bench.jobs, d)}",
        f"re-enable of {bench.jobs} jobs at the deadline: {e * 1000:.0f} ms, {bench.ratio(bench.jobs, e)}",
        f"read models caught up after the disable-all: {c * 1000:.0f} ms more",
    ]


def import_and_export(bench: Bench) -> list[str]:
    """bench/transfer.py's figures: the import into fresh gateways, then the export of one."""
    lines = transfer.import_figures(bench.runtime, bench.jobs, bench.rounds)
    return lines + transfer.export_figures(bench.runtime, "gw-import-0", bench.jobs, bench.rounds)


def conflict_check(bench: Bench) -> list[str]:
    """bench/conflicts.py's job set in a gateway of its own, then its check figures."""
    began = time.perf_counter()
    conflicts.populate(bench.runtime, bench.jobs)
    return [f"conflict set-up: {bench.jobs} jobs of mixed schedules in {time.perf_counter() - began:.1f} s",
            *conflicts.check_figures(bench.runtime, bench.check_rounds)]


# The figures, in order (the ceiling first: the bulk figures are measured against it).
FIGURES: list[Callable[[Bench], list[str]]] = [store_ceiling, disable_then_enable, import_and_export, conflict_check]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check-rounds", type=int, default=30, help="rounds of each conflict check timed")
    args = parser.parse_args()
    with started_runtime("gs_bench", max_jobs_per_gateway=args.jobs + 10) as runtime:
        print(f"fleet operations, {args.jobs} jobs; {load()}", flush=True)
        bench = Bench(runtime, "gw-fleet", args.jobs, args.rounds, args.check_rounds)
        populate(bench)
        for figure in FIGURES:
            for line in figure(bench):
                print(line, flush=True)
        print(f"done; {load()}")


if __name__ == "__main__":
    main()
