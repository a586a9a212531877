"""The other jobs' runs a conflict check sweeps, kept between checks (decision 90).

The answer needs only the runs inside the windows around the candidate's (and its moves') runs;
runs outside them overlap no candidate run, so they change neither a conflict nor a peak. A check
therefore sweeps every run over whole UTC days covering the windows: the same answer, from inputs
that stay the same for every check of the same job set on the same days. Each schedule's fires over
such a span, and the sweep built from a job set's, are kept (least recently used, bounded by the
runs they hold). The windowed expansion, with its budgets, is the fallback: when a schedule would
compute too many fires one by one over the span, and whenever the span's counts do not prove the
windows' counts within the budgets (so a check is refused exactly when the windowed one was).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain import conflicts as c
from domain.errors import ValidationFailed
from domain.schedules import Schedule

MAX_OTHER_RUNS = 5_000_000  # other jobs' runs around the candidate's, in all
MAX_STEPPED_RUNS = 50_000  # of which computed one by one through next_after (calendar, once, some cron)
DAY_MS = 86_400_000
SPAN_STEPS = 2_000  # fires one schedule may compute one by one over a span and still be kept
KEPT_FIRES = 4_000_000  # the fires kept per (schedule, span), in all (8 bytes each)
KEPT_SWEEPS, KEPT_SWEEP_RUNS = 2, 3_000_000  # sweeps kept, and the runs they hold in all (~32 bytes each)


@dataclass(frozen=True)
class Other:
    """An enabled job beside the candidate, as the sweep needs it (hashable: part of a cache key)."""

    job_id: str
    name: str
    schedule: Schedule
    duration_ms: int
    targets: frozenset[str] = frozenset()


class _Kept:
    """Least recently used values, bounded by how many entries and how many runs they hold."""

    def __init__(self, entries: int, runs: int) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._entries, self._runs, self._held = entries, runs, 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, runs: int) -> None:
        if runs > self._runs:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._held -= old[1] if old else 0
            self._items[key] = (value, runs)
            self._held += runs
            while len(self._items) > self._entries or self._held > self._runs:
                self._held -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0


_FIRES = _Kept(entries=1_000_000, runs=KEPT_FIRES)
_SWEEPS = _Kept(entries=KEPT_SWEEPS, runs=KEPT_SWEEP_RUNS)


@dataclass(frozen=True)
class _Spanned:
    sweep: c.Sweep
    runs: int  # every run over the span: at least the windows' count
    stepped: int  # of which computed one by one over the span: at least what the windows step


def forget() -> None:
    """Drop every kept expansion and sweep (benches time the first check of a day this way)."""
    _FIRES.clear()
    _SWEEPS.clear()


def sweep_of(others: Sequence[Other], windows: Sequence[tuple[int, int]], max_concurrent: int,
             origin_ms: int) -> c.Sweep:
    """The sweep of `others`' runs touching the windows ([start, end] epoch ms, ascending,
    disjoint); ValidationFailed when they fire too often there to predict (the budgets)."""
    if windows:
        low = windows[0][0] // DAY_MS * DAY_MS
        high = -(-(windows[-1][1] + 1) // DAY_MS) * DAY_MS
        key = (low, high, max_concurrent, tuple(others))
        spanned = _SWEEPS.get(key)
        if spanned is None:
            spanned = _spanned(others, low, high, max_concurrent)
            if spanned is not None:
                _SWEEPS.put(key, spanned, spanned.runs)
        if spanned is not None and spanned.runs <= MAX_OTHER_RUNS and spanned.stepped <= MAX_STEPPED_RUNS:
            return spanned.sweep
    return _windowed(others, windows, max_concurrent, origin_ms)


def _fires(schedule: Schedule, low: int, high: int) -> tuple[np.ndarray, int] | None:
    """The schedule's fires in [low, high) and how many were stepped, or None past SPAN_STEPS."""
    key = (schedule, low, high)
    kept = _FIRES.get(key)
    if kept is None:
        fires, stepped = c.expand_counting(schedule, c.instant_of(low), c.instant_of(high), SPAN_STEPS)
        if stepped > SPAN_STEPS:
            return None
        fires.flags.writeable = False  # shared by every check reading it
        kept = (fires, stepped)
        _FIRES.put(key, kept, max(1, fires.size))
    return kept


def _spanned(others: Sequence[Other], low: int, high: int, max_concurrent: int) -> _Spanned | None:
    planned, runs, stepped = [], 0, 0
    for other in others:
        found = _fires(other.schedule, low, high)
        if found is None:
            return None
        fires, count = found
        runs, stepped = runs + fires.size, stepped + count
        if runs > MAX_OTHER_RUNS:
            return None
        if fires.size:
            planned.append(c.PlannedJob(other.job_id, other.name, fires, other.duration_ms, other.targets))
    return _Spanned(c.Sweep(planned, max_concurrent, low), runs, stepped)


def _windowed(others: Sequence[Other], windows: Sequence[tuple[int, int]], max_concurrent: int,
              origin_ms: int) -> c.Sweep:
    """Each job's fires inside the windows only, within the budgets (decision 63)."""
    planned, total, stepped = [], 0, 0
    for other in others:
        starts, count = c.expand_within(other.schedule, windows, MAX_STEPPED_RUNS - stepped)
        total += starts.size
        stepped += count
        if total > MAX_OTHER_RUNS or stepped > MAX_STEPPED_RUNS:
            message = (f"the gateway's jobs fire too often around the candidate's runs to predict"
                       f" (more than {MAX_OTHER_RUNS} runs, or {MAX_STEPPED_RUNS} of calendar, cron"
                       f" or solar schedules; job {other.job_id} passed it): shorten horizon_days"
                       " or window_minutes")
            raise ValidationFailed(message, {"field": "horizon_days", "reason": message})
        if starts.size:
            planned.append(c.PlannedJob(other.job_id, other.name, starts, other.duration_ms, other.targets))
    return c.Sweep(planned, max_concurrent, origin_ms)
