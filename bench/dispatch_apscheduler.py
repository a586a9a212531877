"""The dispatch bench's baseline: APScheduler 3.11 in memory on the same job set."""

from __future__ import annotations

import math
import time
from datetime import UTC

from dispatch_jobs import EDGE, Result, Spec, expected_fires, first_ms, instant, ms_of, rss_mb, sleep_until  # noqa: F401

def run_apscheduler(specs: list[Spec], seconds: float, workers: int, lead: float) -> Result:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    base_ms = math.ceil(time.time() + lead) * 1000
    starts: list[tuple[int, float]] = []  # (job index, wall time); list.append is atomic

    def action(index: int) -> None:
        starts.append((index, time.time()))

    skipped = []
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"misfire_grace_time": 3600, "coalesce": False},
        timezone=UTC,
    )
    scheduler.add_listener(lambda event: skipped.append(event), EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    for s in specs:
        trigger = IntervalTrigger(seconds=s.period, start_date=instant(first_ms(s, base_ms)), timezone=UTC)
        scheduler.add_job(action, trigger, args=(s.index,), id=s.job_id)
    scheduler.start()
    ready = time.time()
    print(f"apscheduler: {len(specs)} jobs added and started; first fires at +{base_ms / 1000 - ready:.1f} s",
          flush=True)
    sleep_until(base_ms / 1000)
    cpu0, fired0 = time.process_time(), len(starts)
    sleep_until(base_ms / 1000 + seconds)
    cpu, fired_run, rss = time.process_time() - cpu0, len(starts) - fired0, rss_mb()
    scheduler.shutdown(wait=True)

    lo_ms, hi_ms = base_ms + int(EDGE * 1000), base_ms + int((seconds - EDGE) * 1000)
    fired: dict[tuple[int, int], tuple[int, float]] = {}
    duplicates = 0
    by_index = {s.index: s for s in specs}
    for index, start in starts:
        s = by_index[index]
        first, step = first_ms(s, base_ms), s.period * 1000
        start_ms = start * 1000
        nominal = first + max(0, math.floor((start_ms - first) / step)) * step  # latest instant <= start
        if lo_ms <= nominal < hi_ms:
            if (index, nominal) in fired:
                duplicates += 1
            else:
                fired[(index, nominal)] = (nominal - lo_ms, start_ms - nominal)
    result = Result("apscheduler", expected_fires(specs, base_ms, lo_ms, hi_ms), len(fired), duplicates=duplicates)
    result.samples = list(fired.values())
    result.cpu_seconds, result.fires_run, result.rss_mb = cpu, fired_run, rss
    if skipped:
        result.notes.append(f"{len(skipped)} runs reported missed or skipped (max instances) by APScheduler")
    if ready > base_ms / 1000:
        result.notes.append(f"set-up overran the first fires by {ready - base_ms / 1000:.1f} s: raise --lead")
    return result


# ---- main ----------------------------------------------------------------------------------------


