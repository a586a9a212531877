"""Microseconds per next_after call for 10,000 mixed schedules, with raw croniter beside cron."""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.schedules import parse_schedule  # noqa: E402

UTC = timezone.utc
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo",
         "Pacific/Auckland", "Africa/Cairo", "Asia/Tokyo", "Europe/London"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TYPES = ("cron", "interval", "daily", "weekly", "monthly")
COUNT = 10_000
ROUNDS = 3


def random_cron(rng: random.Random) -> str:
    minute = rng.choice(["*", "*/5", "*/15", "0", "30", "0,30", "10-20"])
    hour = rng.choice(["*", "*/2", "9-17", "2", "0", "1,13"])
    dom = rng.choice(["*", "*", "1", "15", "1-7"])
    month = rng.choice(["*", "*", "*/3", "6"])
    dow = rng.choice(["*", "*", "1-5", "0,6", "1"])
    fields = [minute, hour, dom, month, dow]
    if rng.random() < 0.1:
        fields.insert(0, rng.choice(["0", "*/10"]))
    return " ".join(fields)


def random_params(kind: str, rng: random.Random) -> dict:
    clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
    zone = rng.choice(ZONES)
    if kind == "cron":
        return {"cron_expression": random_cron(rng), "timezone": zone}
    if kind == "interval":
        return {"interval_seconds": rng.randrange(1, 86400), "jitter_percentage": rng.choice([0, 10, 25])}
    if kind == "daily":
        return {"time": clock, "timezone": zone, "skip_weekends": rng.random() < 0.3}
    if kind == "weekly":
        return {"days": rng.sample(DAYS, rng.randrange(1, 8)), "time": clock, "timezone": zone}
    return {"day": rng.choice([1, 15, 28, 29, 30, 31, "last"]), "time": clock, "timezone": zone}


def timed(calls) -> float:
    """Best of ROUNDS: microseconds per call."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for call, arg in calls:
            call(arg)
        best = min(best, time.perf_counter() - start)
    return best / len(calls) * 1e6


def main() -> None:
    rng = random.Random(20250312)
    anchor = datetime(2025, 1, 1, tzinfo=UTC)
    built = {kind: [] for kind in TYPES}
    for i in range(COUNT):
        kind = TYPES[i % len(TYPES)]
        built[kind].append(parse_schedule(kind, random_params(kind, rng), anchor=anchor))
    span = int(timedelta(days=3 * 365).total_seconds())
    probe = [anchor + timedelta(seconds=rng.randrange(span)) for _ in range(COUNT)]

    print(f"{'type':<10}{'schedules':>10}{'us/next_after':>15}")
    results = {}
    for kind in TYPES:
        calls = [(s.next_after, probe[i]) for i, s in enumerate(built[kind])]
        results[kind] = timed(calls)
        print(f"{kind:<10}{len(calls):>10}{results[kind]:>15.1f}")

    def raw(job):
        expr, start, six = job
        return croniter(expr, start, second_at_beginning=six).get_next(datetime)

    jobs = []
    for i, s in enumerate(built["cron"]):
        start = probe[i].astimezone(ZoneInfo(s.timezone))
        jobs.append((raw, (s.cron_expression, start, len(s.cron_expression.split()) == 6)))
    raw_us = timed(jobs)
    print(f"{'croniter':<10}{len(jobs):>10}{raw_us:>15.1f}   (croniter(expr, start).get_next(datetime))")
    print(f"cron / raw croniter ratio: {results['cron'] / raw_us:.2f}x")


if __name__ == "__main__":
    main()
