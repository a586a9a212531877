"""Export and import of 1,000 jobs (issue 12, "Performance").

Import: one JSON file of N jobs of mixed schedule types into an empty gateway through the same use
case the API and the CLI run (interfaces/transfer/operations.py: read and check the file, the
ImportJobs command at the commit point, wait for the read models), timed as a whole and in its
parts. Its events/s are set against the event store's batched ceiling measured in the same run:
the same kind of events (N Job.Created, N Gateway.JobAdded, one Gateway.Created) built in memory
and saved in one `app.save`, with no file to read and nothing to validate or wait for. Then the
same file again with merge (N skips, no event), a dry run of a replace, and exports of the N jobs
in each format. bench/fleet_ops.py runs `import_figures` and `export_figures` among the fleet figures.

    .venv/bin/python bench/transfer.py [--jobs 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from application.commands import CommandContext, ImportJobs  # noqa: E402
from bench.support import load, started_runtime, verdict  # noqa: E402
from domain.gateway import Gateway  # noqa: E402
from domain.job import Job  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402
from interfaces.transfer import operations  # noqa: E402
from interfaces.transfer.files import read_jobs  # noqa: E402

TARGET_IMPORT_S = 3.0
ACTION = {"type": "publish", "topic": "device/data", "payload_template": '{"t": "${NOW}"}'}


def job(i: int) -> dict[str, Any]:
    kinds = [
        ("interval", {"interval_seconds": 10 + i % 600}),
        ("daily", {"time": f"{i % 24:02d}:{i % 60:02d}", "timezone": "Europe/Berlin"}),
        ("weekly", {"days": ["mon", "thu"], "time": "06:30"}),
        ("cron", {"cron_expression": f"{i % 60} */2 * * *", "timezone": "America/New_York"}),
    ]
    kind, schedule = kinds[i % len(kinds)]
    return {"id": f"job-{i:05d}", "name": f"bench job {i}", "description": "bench", "type": kind, "enabled": i % 7 != 0,
            "schedule": schedule, "action": {**ACTION, "topic": f"device/{i}"}, "tags": ["bench", kind],
            "options": {"timeout_seconds": 30}}


def file_of(n: int) -> bytes:
    return json.dumps({"export_type": "jobs_configuration", "format_version": 1,
                       "jobs": [job(i) for i in range(n)]}).encode()


def ceiling(runtime: Runtime, gateway_id: str, n: int) -> tuple[float, int]:
    """Seconds to save the import's events built in memory, in one transaction, and their count."""
    now = runtime.clock()
    gateway = Gateway.create(gateway_id, now)
    jobs = []
    for i in range(n):
        fields = {k: v for k, v in job(i).items() if k != "id"}
        jobs.append(Job.create(gateway_id=gateway_id, job_id=f"job-{i:05d}", fields=fields, actor="bench", now=now))
        gateway.add_job(f"job-{i:05d}", max_jobs=n, now=now)
    events = len(gateway.pending_events) + sum(len(j.pending_events) for j in jobs)
    began = time.perf_counter()
    recordings = runtime.app.save(gateway, *jobs)
    seconds = time.perf_counter() - began
    # The read models take these events before the import is timed: its wait is then its own.
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings), timeout=300)
    return seconds, events


def one_import(runtime: Runtime, gateway_id: str, content: bytes) -> dict[str, float]:
    """The use case's parts, as operations.import_jobs runs them, timed one by one."""
    jobs = read_jobs(content, "jobs.json")
    began = time.perf_counter()
    runtime.app.preview(ImportJobs(gateway_id, jobs, "merge"), CommandContext("bench", None, "op-bench"))
    decided = time.perf_counter() - began  # the handler alone: load, validate, decide; nothing saved
    began = time.perf_counter()
    jobs = read_jobs(content, "jobs.json")
    read = time.perf_counter()
    saved = runtime.app.execute(ImportJobs(gateway_id, jobs, "merge"), CommandContext("bench", None, "op-bench"))
    committed = time.perf_counter()
    caught_up = runtime.wait(saved.recorded, timeout=120)
    done = time.perf_counter()
    assert caught_up and saved.report.count("create") == len(jobs)
    return {"read": read - began, "commit": committed - read, "wait": done - committed, "total": done - began,
            "events": len(saved.recorded), "decide": decided}


def import_figures(runtime: Runtime, n: int, rounds: int) -> list[str]:
    """Each round: the ceiling into a fresh gateway, the import in parts into another, the same file
    again with merge, a dry run of a replace, the whole use case into a third; medians."""
    content = file_of(n)
    ceilings, imports, merges, plans, whole = [], [], [], [], []
    for r in range(rounds):
        seconds, events = ceiling(runtime, f"gw-ceiling-{r}", n)
        ceilings.append(events / seconds)
        imports.append(one_import(runtime, f"gw-import-{r}", content))
        began = time.perf_counter()
        again = operations.import_jobs(runtime, f"gw-import-{r}", content, "jobs.json", strategy="merge",
                                       dry_run=False, plan_token=None, actor="bench", request_id=None)
        merges.append(time.perf_counter() - began)
        assert again["skipped"] == n
        began = time.perf_counter()
        operations.import_jobs(runtime, f"gw-import-{r}", content, "jobs.json", strategy="replace",
                               dry_run=True, plan_token=None, actor="bench", request_id=None)
        plans.append(time.perf_counter() - began)
        began = time.perf_counter()
        answer = operations.import_jobs(runtime, f"gw-whole-{r}", content, "jobs.json", strategy="merge",
                                        dry_run=False, plan_token=None, actor="bench", request_id=None)
        whole.append(time.perf_counter() - began)
        assert answer["imported"] == n
    med = statistics.median
    parts = {k: med(i[k] for i in imports) for k in ("read", "commit", "wait", "total", "events", "decide")}
    rate, top = parts["events"] / parts["commit"], med(ceilings)
    return [
        f"import file: {n} jobs, {len(content) / 1024:.0f} KiB of JSON; {rounds} rounds, median shown",
        f"event store ceiling (the import's {int(parts['events'])} events built in memory, one save): {top:,.0f} events/s",
        f"import of {n} jobs: read+check {parts['read']:.2f} s, decide+commit {parts['commit']:.2f} s, "
        f"read models {parts['wait']:.2f} s; total {parts['total']:.2f} s",
        f"  commit rate {rate:,.0f} events/s = {rate / top:.2f} x the ceiling; of the commit, the handler "
        f"alone (load, validate, decide: a dry run into the empty gateway) {parts['decide']:.2f} s",
        f"  whole use case (operations.import_jobs): {med(whole):.2f} s "
        f"({verdict(med(whole), TARGET_IMPORT_S)}: target < {TARGET_IMPORT_S:.0f} s)",
        f"same file again, merge (all skipped, no event): {med(merges):.2f} s",
        f"dry run of a replace (nothing written): {med(plans):.2f} s",
    ]


def export_figures(runtime: Runtime, gateway_id: str, n: int, rounds: int) -> list[str]:
    """The export of the gateway's N jobs in each format, statistics included; medians."""
    lines = []
    for fmt in ("json", "yaml", "csv"):
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            exported = operations.export_jobs(runtime, gateway_id, fmt=fmt, include_statistics=True)  # type: ignore[arg-type]
            times.append(time.perf_counter() - began)
        lines.append(f"export of {n} jobs as {fmt}: {statistics.median(times) * 1000:.0f} ms"
                     f" ({len(exported.content) / 1024:.0f} KiB)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with started_runtime("gs_bench", max_jobs_per_gateway=args.jobs) as runtime:
        print(load())
        for line in [*import_figures(runtime, args.jobs, args.rounds),
                     *export_figures(runtime, "gw-import-0", args.jobs, args.rounds)]:
            print(line, flush=True)


if __name__ == "__main__":
    main()
