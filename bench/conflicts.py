"""Latency of a conflict check against 1,000 jobs of mixed schedules over 7 days.

A gateway gets N jobs (default 1,000) through the commit point: interval (60 s .. 1 h), daily,
weekly, monthly, cron (every 5/15 min, hourly, office hours, nightly, 6-field every 10 s in one job
of 50) and sunrise schedules over ten zones, a third of them with an execution history (their p95
is used). Then the check that POST /conflicts/check runs (projections.conflict_queries.check, read
models included) is timed ROUNDS times for a daily candidate and for an hourly cron candidate, with
the default recommendation search (+-120 min in 5 min steps): as the next checks of the day find it
(the other jobs' runs and their sweep kept, decision 90), and as the first check of a day or of a
changed job set (nothing kept: `conflict_plan.forget()` before each round). Baselines in the same
run: the bare expansion of every job's occurrences over the 7 days through `next_after` (what a
check without the windows, the arithmetic and the vectorised sweep would at least do; timed on the
first tenth of the jobs, a sample as mixed as the whole, and scaled), and the read-model queries
alone. bench/fleet_ops.py runs `check_figures` among the fleet figures.

    .venv/bin/python bench/conflicts.py [--jobs 1000] [--rounds 30] [--profile]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from application.commands import CommandContext, CreateJob  # noqa: E402
from bench.support import load, percentile, started_runtime, timed, verdict  # noqa: E402
from domain.execution import Execution  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402
from projections import conflict_plan, conflict_queries  # noqa: E402
from projections.conflict_queries import CheckRequest  # noqa: E402

UTC = timezone.utc
GATEWAY = "gw-conflicts"
START = datetime(2027, 1, 4, tzinfo=UTC)  # the horizon: a week in the future, so nothing fires meanwhile
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Europe/London",
         "Asia/Tokyo", "America/Sao_Paulo", "Africa/Cairo", "Pacific/Auckland"]
CRONS = ["*/5 * * * *", "*/15 * * * *", "0 * * * *", "30 9-17 * * 1-5", "0 2 * * *", "15 3 * * 0", "0 0 1 * *"]


def schedule_of(i: int, rng: random.Random) -> tuple[str, dict]:
    zone = rng.choice(ZONES)
    clock = f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 5):02d}"
    kind = ("interval", "interval", "daily", "daily", "weekly", "monthly", "cron", "cron", "cron", "sunrise")[i % 10]
    if kind == "interval":
        start_at = START - timedelta(days=3) + timedelta(seconds=rng.randrange(3600))
        return kind, {"interval_seconds": rng.choice([60, 300, 600, 900, 1800, 3600]),
                      "start_at": start_at.isoformat()}
    if kind == "daily":
        return kind, {"time": clock, "timezone": zone, "skip_weekends": rng.random() < 0.3}
    if kind == "weekly":
        return kind, {"days": rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], rng.randrange(1, 4)),
                      "time": clock, "timezone": zone}
    if kind == "monthly":
        return kind, {"day": rng.choice([1, 15, 31, "last"]), "time": clock, "timezone": zone}
    if kind == "cron":
        expression = "*/10 * * * * *" if i % 50 == 6 else rng.choice(CRONS)
        return kind, {"cron_expression": expression, "timezone": zone}
    return kind, {"event": rng.choice(["sunrise", "sunset"]), "offset_minutes": rng.randrange(-60, 61),
                  "latitude": rng.uniform(35, 60), "longitude": rng.uniform(-10, 30), "timezone": zone}


def populate(runtime: Runtime, count: int) -> None:
    rng = random.Random(7)
    runtime.app.max_jobs = count + 10
    cause = CommandContext("bench", None)
    recorded: tuple = ()
    history: list[Execution] = []
    for i in range(count):
        kind, params = schedule_of(i, rng)
        action = ({"type": "publish", "topic": f"plant/line{i % 40}"} if i % 3 else
                  {"type": "file", "operation": "cleanup", "pattern": f"logs/{i % 25}/*.log"})
        saved = runtime.app.execute(CreateJob(gateway_id=GATEWAY, name=f"job {i}", type=kind, schedule=params,
                                              action=action, job_id=f"job-{i:04d}"), cause)
        recorded = saved.recorded or recorded
        if i % 3 == 0:
            for k in range(5):
                at = START - timedelta(days=30) + timedelta(hours=k)
                execution = Execution.start(gateway_id=GATEWAY, job_id=f"job-{i:04d}", job_name=f"job {i}",
                                            execution_id=f"exec-{i}-{k}", trigger="scheduled", scheduled_for=at, now=at)
                ms = rng.randrange(1_000, 600_000)
                execution.succeed(now=at + timedelta(milliseconds=ms), duration_ms=ms, message="ok", logs=[], details={})
                history.append(execution)
    for lo in range(0, len(history), 500):
        saved = runtime.app.save(*history[lo:lo + 500])
        recorded = ((saved[-1].notification.topic, saved[-1].notification.id),)
    assert runtime.wait(recorded, timeout=600), "the read models did not catch up"


TARGET_P95_MS = 500.0
CANDIDATES = {
    "daily 02:00 Europe/Berlin, 300 s": CheckRequest(
        schedule={"type": "daily", "time": "02:00", "timezone": "Europe/Berlin"},
        action={"type": "publish", "topic": "plant/line1"}, estimated_duration_seconds=300, start=START),
    "cron '0 * * * *' (168 runs), 120 s": CheckRequest(
        schedule={"type": "cron", "cron_expression": "0 * * * *"}, estimated_duration_seconds=120, start=START),
}


def bare_expansion(runtime: Runtime, sample: int) -> int:
    rows = runtime.reads.all("SELECT type, schedule, schedule_anchor FROM jobs WHERE gateway_id = %(g)s"
                             " ORDER BY job_id LIMIT %(n)s", {"g": GATEWAY, "n": sample})
    from domain.schedules import parse_schedule

    end, count = START + timedelta(days=7), 0
    for row in rows:
        schedule = parse_schedule(row["type"], row["schedule"], anchor=row["schedule_anchor"], stored=True)
        fire = schedule.next_after(START - timedelta(milliseconds=1))
        while fire is not None and fire < end:
            count += 1
            fire = schedule.next_after(fire)
    return count


def check_figures(runtime: Runtime, rounds: int, profile: bool = False) -> list[str]:
    """For each candidate: the first check (schedules parsed), then p50/p95 of ROUNDS checks with
    the runs kept and of ROUNDS with nothing kept, PASS/FAIL against the target."""
    limit, p = runtime.settings.max_concurrent_jobs, percentile
    lines = []
    for name, request in CANDIDATES.items():
        def check(r: CheckRequest = request) -> dict:
            return conflict_queries.check(runtime.reads, GATEWAY, r, now=START, max_concurrent=limit)

        conflict_plan.forget()
        began = time.perf_counter()
        report = check()
        first = (time.perf_counter() - began) * 1000
        kept, kept_cpu = timed(check, rounds)
        fresh, fresh_cpu = timed(check, rounds, before=conflict_plan.forget)
        if profile:
            import cProfile
            import pstats

            conflict_plan.forget()
            check()
            stats = cProfile.Profile()
            stats.runcall(check)
            pstats.Stats(stats).sort_stats("cumulative").print_stats(18)
        a = report["analysis"]
        lines += [
            f"conflict check, candidate {name}: {len(report['conflicts'])} conflicts, peak {a['peak_concurrency']},"
            f" {len(report['recommendation_details'])} recommendations (searched +-{a['searched_window_minutes']} min);"
            f" first check (schedules parsed) {first:.0f} ms",
            f"  next checks (runs kept): p50 {p(kept, 50):.1f} ms, p95 {p(kept, 95):.1f} ms over {rounds} rounds"
            f" ({verdict(p(kept, 95), TARGET_P95_MS)}: target p95 < {TARGET_P95_MS:.0f} ms); CPU p50"
            f" {p(kept_cpu, 50):.1f} ms, p95 {p(kept_cpu, 95):.1f} ms",
            f"  first check of a day or job set (nothing kept): p50 {p(fresh, 50):.1f} ms, p95 {p(fresh, 95):.1f} ms"
            f" ({verdict(p(fresh, 95), TARGET_P95_MS)}); CPU p50 {p(fresh_cpu, 50):.1f} ms, p95 {p(fresh_cpu, 95):.1f} ms",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one check of each candidate")
    args = parser.parse_args()
    with started_runtime("gs_bench_conflicts") as runtime:
        began = time.perf_counter()
        populate(runtime, args.jobs)
        print(f"set-up: {args.jobs} jobs (a third with 5 runs of history) in {time.perf_counter() - began:.1f} s; {load()}")
        reads, _ = timed(lambda: (conflict_queries._jobs(runtime.reads, GATEWAY),
                                  conflict_queries._p95_ms(runtime.reads, GATEWAY)), args.rounds)
        sample = max(1, args.jobs // 10)
        began, cpu = time.perf_counter(), time.process_time()
        fires = bare_expansion(runtime, sample)
        bare_ms = (time.perf_counter() - began) * 1000 * args.jobs / sample
        bare_cpu = (time.process_time() - cpu) * 1000 * args.jobs / sample
        print(f"baseline, bare expansion over 7 days through next_after: the first {sample} jobs (every kind, as"
              f" mixed as the whole) {fires} fires in {bare_ms * sample / args.jobs:.0f} ms; for {args.jobs} jobs"
              f" ~{bare_ms:.0f} ms (CPU ~{bare_cpu:.0f} ms)")
        print(f"baseline, the two read-model queries alone: p50 {percentile(reads, 50):.1f} ms,"
              f" p95 {percentile(reads, 95):.1f} ms")
        for line in check_figures(runtime, args.rounds, args.profile):
            print(line, flush=True)
        print(f"done; {load()}")


if __name__ == "__main__":
    main()
