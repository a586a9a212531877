"""Conflict detection: a pure sweep over the predicted runs of a candidate job and of a gateway's
other jobs, and the start times that remove or reduce the conflicts it finds.

A run is the half-open span [start, start + duration) in epoch milliseconds. Against each other
job the candidate has (docs/api.md, "Conflict check"):
- `time_overlap`: some of its runs overlap that job's runs;
- `shared_target`: they overlap while acting on the same MQTT topic or file path (it replaces the
  plain overlap for that job);
- `concurrency_limit`: while it overlaps that job's runs, the gateway would run more than
  `max_concurrent_jobs` runs at once (the candidate's run counted).
Severity: `shared_target` and `concurrency_limit` are "high"; `time_overlap` is "medium" when at
least half of the candidate's runs in the horizon collide with that job, else "low".

The sweep is vectorised (numpy): every other job's run starts sit in one sorted array keyed by
(job, start), so the runs of every job overlapping each candidate run are counted by two binary
searches per (job, candidate run); the gateway's concurrency is a running sum over all runs'
start and end events, and its peak inside each candidate run a range maximum over that sum.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from domain.schedules import CronSchedule, IntervalSchedule, Schedule, SolarSchedule
from domain.schedules.localtime import next_transition, zone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_DURATION_SECONDS = 60
MAX_DURATION_SECONDS = 7 * 24 * 3600
TIME_OVERLAP, SHARED_TARGET, CONCURRENCY_LIMIT = "time_overlap", "shared_target", "concurrency_limit"
_TYPE_ORDER = {CONCURRENCY_LIMIT: 0, SHARED_TARGET: 1, TIME_OVERLAP: 2}
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_JOB_SPAN = np.int64(1) << 42  # per-job key space: run starts are kept within +-2**40 ms of the origin
_BIAS = np.int64(1) << 41
_MS = timedelta(milliseconds=1)
_CELLS = 2_000_000  # (job, candidate run) pairs searched in one batch


def epoch_ms(instant: datetime) -> int:
    return (instant - EPOCH) // _MS


def _ceil_ms(instant: datetime) -> int:
    return -((EPOCH - instant) // _MS)


def instant_of(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def targets_of(action: Mapping[str, Any]) -> frozenset[str]:
    """What an action acts on, for `shared_target`: "mqtt:<topic>" or "file:<normalised path>"."""
    if action.get("type") == "publish" and action.get("topic"):
        return frozenset({f"mqtt:{action['topic']}"})
    if action.get("type") == "file":
        paths = [action.get("pattern"), action.get("destination")]
        return frozenset(f"file:{posixpath.normpath(str(p).replace(chr(92), '/'))}" for p in paths if p)
    return frozenset()


def expand(schedule: Schedule, start: datetime, end: datetime, limit: int | None = None) -> np.ndarray:
    """Epoch ms of the schedule's fire instants in [start, end), ascending: by arithmetic for
    interval schedules and for cron schedules while the zone's offset holds, day by day for solar
    ones, else through the schedule's own `next_after` (DST-correct), of which at most `limit` + 1
    are computed (a caller seeing more than `limit` knows it stopped early)."""
    return expand_counting(schedule, start, end, limit)[0]


def expand_counting(schedule: Schedule, start: datetime, end: datetime, limit: int | None) -> tuple[np.ndarray, int]:
    """`expand`, and how many fires were computed one by one through next_after."""
    if isinstance(schedule, IntervalSchedule):
        step = schedule.interval_seconds * 1000
        first = epoch_ms(schedule.first)
        last = epoch_ms(end) - 1
        if schedule.bounds.end_at is not None:
            last = min(last, epoch_ms(schedule.bounds.end_at))
        low = epoch_ms(start)
        k0 = 0 if low <= first else -(-(low - first) // step)
        k1 = (last - first) // step
        if k1 < k0:
            return np.empty(0, dtype=np.int64), 0
        return first + step * np.arange(k0, k1 + 1, dtype=np.int64), 0
    if isinstance(schedule, CronSchedule):
        fast = _cron_fires(schedule, start, end)
        if fast is not None:
            return fast, 0
    if isinstance(schedule, SolarSchedule):
        return np.asarray([epoch_ms(f) for f in schedule.fires_between(start, end)], dtype=np.int64), 0
    out: list[int] = []
    fire = schedule.next_after(start - _MS)
    while fire is not None and fire < end and (limit is None or len(out) <= limit):
        out.append(epoch_ms(fire))
        fire = schedule.next_after(fire)
    return np.asarray(out, dtype=np.int64), len(out)


def _cron_fires(schedule: CronSchedule, start: datetime, end: datetime) -> np.ndarray | None:
    """A cron schedule's fires in [start, end) by array arithmetic over its fields, where the zone
    keeps one UTC offset over the span (each matching wall time is then one instant, under both of
    the schedule's DST rules); None (the caller steps through next_after) across an offset change or
    for L, W and # expressions."""
    fields = schedule.plain_fields()
    if fields is None:
        return None
    bounds = schedule.bounds
    if bounds.start_at is not None and start < bounds.start_at:
        start = bounds.start_at
    if bounds.end_at is not None and end > bounds.end_at + _MS:
        end = bounds.end_at + _MS
    if end <= start:
        return np.empty(0, dtype=np.int64)
    tz = zone(schedule.timezone)
    if next_transition(start - _MS, end, tz) is not None:
        return None
    offset = tz.utcoffset(start.astimezone(tz)) // _MS
    seconds, minutes, hours, doms, months, dows = (None if f is None else np.asarray(f, np.int64) for f in fields)
    every = {"s": np.arange(60), "m": np.arange(60), "h": np.arange(24)}
    of_day = ((every["h"] if hours is None else hours)[:, None, None] * 3600
              + (every["m"] if minutes is None else minutes)[None, :, None] * 60
              + (every["s"] if seconds is None else seconds)[None, None, :]).ravel()
    of_day.sort()
    low, high = _ceil_ms(start) + offset, _ceil_ms(end) + offset  # as naive wall times
    days = np.arange(low // 86_400_000, (high - 1) // 86_400_000 + 1, dtype=np.int64)
    dates = days.astype("datetime64[D]")
    month_starts = dates.astype("datetime64[M]")
    ok = np.ones(days.size, bool) if months is None else np.isin(month_starts.astype(np.int64) % 12 + 1, months)
    dom_ok = None if doms is None else np.isin((dates - month_starts.astype("datetime64[D]")).astype(np.int64) + 1, doms)
    dow_ok = None if dows is None else np.isin((days + 4) % 7, dows)  # 1970-01-01 was a Thursday (4)
    if dom_ok is not None and dow_ok is not None:
        ok &= dom_ok | dow_ok  # cron: both restricted -> either day matches
    elif dom_ok is not None:
        ok &= dom_ok
    elif dow_ok is not None:
        ok &= dow_ok
    walls = ((days[ok] * 86_400)[:, None] + of_day[None, :]).ravel() * 1000
    walls = walls[(walls >= low) & (walls < high)]
    return walls - offset


def _inside(values: np.ndarray, windows: Sequence[tuple[int, int]]) -> np.ndarray:
    """The values (ascending) that lie in one of the [start, end] windows (ascending, disjoint)."""
    lows = np.fromiter((lo for lo, _ in windows), np.int64, len(windows))
    highs = np.fromiter((hi for _, hi in windows), np.int64, len(windows))
    k = np.searchsorted(lows, values, side="right") - 1
    keep = (k >= 0) & (values <= highs[np.maximum(k, 0)])
    return values[keep]


def expand_within(schedule: Schedule, windows: Sequence[tuple[int, int]],
                  limit: int | None = None) -> tuple[np.ndarray, int]:
    """The schedule's fires within the [start, end] windows (epoch ms, ascending, disjoint), and
    how many were computed one by one (at most `limit` + 1 of them). Arithmetic and day-by-day
    expansions run once over the windows' whole span, then keep what lies inside; stepping walks
    the windows once (a fire past a window serves the next: a rare schedule costs one call)."""
    if not windows:
        return np.empty(0, dtype=np.int64), 0
    first, last = instant_of(windows[0][0]), instant_of(windows[-1][1] + 1)
    if isinstance(schedule, IntervalSchedule):
        return _inside(expand_counting(schedule, first, last, None)[0], windows), 0
    if isinstance(schedule, SolarSchedule):
        fires = np.asarray([epoch_ms(f) for f in schedule.fires_between(first, last)], dtype=np.int64)
        return _inside(fires, windows), 0
    if isinstance(schedule, CronSchedule):
        fast = _cron_fires(schedule, first, last)
        if fast is not None:
            return _inside(fast, windows), 0
        parts, stepped = [], 0  # an offset change in the span: each window on its own
        for lo, hi in windows:
            part, count = expand_counting(schedule, instant_of(lo), instant_of(hi + 1), None if limit is None else limit - stepped)
            parts.append(part)
            stepped += count
            if limit is not None and stepped > limit:
                break
        return np.concatenate(parts), stepped
    out: list[int] = []
    fire: datetime | None = None
    for lo, hi in windows:
        if fire is None or epoch_ms(fire) < lo:
            fire = schedule.next_after(instant_of(lo) - _MS)
        while fire is not None and epoch_ms(fire) <= hi and (limit is None or len(out) <= limit):
            out.append(epoch_ms(fire))
            fire = schedule.next_after(fire)
        if fire is None or (limit is not None and len(out) > limit):
            break
    return np.asarray(out, dtype=np.int64), len(out)


def windows_around(starts: Iterable[np.ndarray], before_ms: int, after_ms: int) -> list[tuple[int, int]]:
    """The merged spans [s - before, s + after] around every start: where other jobs' runs can
    touch a candidate's runs (before: the longest other run, after: the candidate's run)."""
    values = np.unique(np.concatenate([np.asarray(s, dtype=np.int64) for s in starts] or [np.empty(0, np.int64)]))
    if values.size == 0:
        return []
    lows, highs = values - before_ms, values + after_ms
    breaks = np.nonzero(lows[1:] > highs[:-1])[0]
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [values.size - 1]])
    return [(int(lows[a]), int(highs[b])) for a, b in zip(firsts, lasts, strict=True)]


@dataclass(frozen=True)
class PlannedJob:
    """Another job as the sweep sees it: its predicted run starts and how long a run takes."""

    job_id: str
    name: str
    starts: np.ndarray  # epoch ms, ascending
    duration_ms: int
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Conflict:
    job_id: str
    job_name: str
    conflict_type: str
    severity: str
    occurrences: int  # how many of the candidate's runs collide with this job (of this type)
    first_start: int  # epoch ms: the first collision's overlapping span
    first_end: int
    shared_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    conflict_count: int
    high_count: int  # of which high severity
    candidate_runs: int
    colliding_runs: int  # candidate runs with at least one conflict
    peak_concurrency: int  # most runs at once during a candidate run, the candidate's included
    conflicts: tuple[Conflict, ...] = ()  # each of them, unless assessed as a summary

    @property
    def score(self) -> tuple[int, int, int, int]:
        """Lower is better: high-severity conflicts, conflicts, colliding runs, peak concurrency."""
        return (self.high_count, self.conflict_count, self.colliding_runs, self.peak_concurrency)


def severity(conflict_type: str, occurrences: int, candidate_runs: int) -> str:
    """The documented rule (docs/api.md)."""
    if conflict_type in (SHARED_TARGET, CONCURRENCY_LIMIT):
        return "high"
    return "medium" if 2 * occurrences >= candidate_runs else "low"


class Sweep:
    """The other jobs of a gateway, indexed once; `assess` a candidate's runs against them."""

    def __init__(self, others: Sequence[PlannedJob], max_concurrent: int, origin_ms: int) -> None:
        self.others = list(others)
        self.max_concurrent = max_concurrent
        self._origin = origin_ms - int(_BIAS)
        count = len(self.others)
        self._durations = np.array([j.duration_ms for j in self.others], dtype=np.int64)
        self._base = np.arange(count, dtype=np.int64) * _JOB_SPAN
        rel = [self._rel(j.starts) for j in self.others]
        sizes = np.array([r.size for r in rel], dtype=np.int64)
        self._keys = (np.concatenate(rel) + np.repeat(self._base, sizes)) if count else np.empty(0, np.int64)
        starts = np.concatenate(rel) if count else np.empty(0, np.int64)
        ends = starts + np.repeat(self._durations, sizes)
        # Events keyed 2t (an end) and 2t+1 (a start): at one instant a run ends before one starts.
        keys = np.concatenate([2 * ends, 2 * starts + 1])
        steps = np.concatenate([-np.ones(ends.size, np.int64), np.ones(starts.size, np.int64)])
        order = np.argsort(keys, kind="stable")
        self._event_keys = keys[order]
        self._levels = np.concatenate([[0], np.cumsum(steps[order]), [0]])  # level after each event

    def _rel(self, ms: np.ndarray) -> np.ndarray:
        return np.asarray(ms, dtype=np.int64) - self._origin

    def _peaks(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Most other runs at once within each [start, end)."""
        if starts.size == 0 or self._event_keys.size == 0:
            return np.zeros(starts.size, np.int64)
        first = np.searchsorted(self._event_keys, 2 * starts + 1, side="right")  # the level at start
        last = np.searchsorted(self._event_keys, 2 * ends, side="left")  # events strictly inside
        bounds = np.empty(2 * starts.size, np.int64)
        bounds[0::2], bounds[1::2] = first, last + 1
        return np.maximum.reduceat(self._levels, bounds)[0::2]

    def _hits(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(job, candidate run) -> how many of that job's runs overlap that candidate run."""
        count = len(self.others)
        hits = np.zeros((count, starts.size), np.int64)
        if count == 0 or starts.size == 0:
            return hits
        rows = max(1, _CELLS // starts.size)
        for lo in range(0, count, rows):
            base = self._base[lo:lo + rows, None]
            after = np.searchsorted(self._keys, base + starts[None, :] - self._durations[lo:lo + rows, None], "right")
            before = np.searchsorted(self._keys, base + ends[None, :], "left")
            hits[lo:lo + rows] = before - after
        return hits

    def assess(self, candidate_starts: np.ndarray, duration_ms: int, targets: frozenset[str] = frozenset(),
               *, summary: bool = False) -> Assessment:
        """The candidate's conflicts; `summary`: their counts only (what ranking moves needs)."""
        starts = np.unique(self._rel(candidate_starts))
        ends = starts + duration_ms
        hits = self._hits(starts, ends) > 0
        concurrency = 1 + self._peaks(starts, ends)
        over = concurrency > self.max_concurrent
        runs = int(starts.size)
        rows = np.nonzero(hits.any(axis=1))[0]
        limited = (hits[rows] & over[None, :]).any(axis=1)
        shared = np.fromiter((bool(targets & self.others[r].targets) for r in rows), bool, rows.size) \
            if targets else np.zeros(rows.size, bool)
        peak = int(concurrency.max()) if runs else 0
        colliding = int(hits.any(axis=0).sum())
        count, high = int(rows.size + limited.sum()), int(shared.sum() + limited.sum())
        if summary:
            return Assessment(count, high, runs, colliding, peak)
        conflicts: list[Conflict] = []
        for row in rows:
            job = self.others[row]
            columns = hits[row]
            common = tuple(sorted(targets & job.targets))
            kind = SHARED_TARGET if common else TIME_OVERLAP
            conflicts.append(self._conflict(job, kind, columns, starts, ends, runs, common))
            capped = columns & over
            if capped.any():
                conflicts.append(self._conflict(job, CONCURRENCY_LIMIT, capped, starts, ends, runs, ()))
        conflicts.sort(key=lambda c: (_SEVERITY_ORDER[c.severity], _TYPE_ORDER[c.conflict_type], c.first_start, c.job_id))
        return Assessment(count, high, runs, colliding, peak, tuple(conflicts))

    def _conflict(self, job: PlannedJob, kind: str, columns: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  runs: int, shared: tuple[str, ...]) -> Conflict:
        first = int(np.argmax(columns))
        s, e = int(starts[first]), int(ends[first])
        rel = self._rel(job.starts)
        k = int(np.searchsorted(rel, s - job.duration_ms, "right"))  # the first of its runs overlapping
        other_start = int(rel[k])
        span_start, span_end = max(s, other_start), min(e, other_start + job.duration_ms)
        occurrences = int(columns.sum())
        return Conflict(
            job_id=job.job_id, job_name=job.name, conflict_type=kind, severity=severity(kind, occurrences, runs),
            occurrences=occurrences, first_start=span_start + self._origin, first_end=span_end + self._origin,
            shared_targets=shared,
        )


@dataclass(frozen=True)
class Option:
    """A candidate start to weigh: the schedule moved by `shift_minutes`, and its runs."""

    shift_minutes: int
    schedule: Schedule
    starts: np.ndarray


@dataclass(frozen=True)
class Recommendation:
    shift_minutes: int
    schedule: Schedule
    before: Assessment
    after: Assessment

    @property
    def removes_all(self) -> bool:
        return self.after.conflict_count == 0


def recommend(sweep: Sweep, base: Assessment, options: Iterable[Option], duration_ms: int,
              targets: frozenset[str] = frozenset(), limit: int = 3) -> list[Recommendation]:
    """The options better than `base` (a lower score), best first: by score, then the smallest
    move, then later before earlier; one per distinct resulting schedule. Empty when the base has
    no conflict or no option improves on it."""
    if not base.conflict_count:
        return []
    found: dict[Any, Recommendation] = {}
    for option in options:
        key = (option.schedule.type, repr(sorted(option.schedule.to_dict().items())))
        if option.shift_minutes == 0 or key in found:
            continue
        after = sweep.assess(option.starts, duration_ms, targets, summary=True)
        if after.score < base.score:
            found[key] = Recommendation(option.shift_minutes, option.schedule, base, after)
    ranked = sorted(found.values(), key=lambda r: (r.after.score, abs(r.shift_minutes), r.shift_minutes < 0))
    return ranked[:limit]


def shifts(window_minutes: int, step_minutes: int) -> list[int]:
    """0, then +step, -step, +2 step, -2 step ... up to +-window: nearest first, later first."""
    out = [0]
    for k in range(1, window_minutes // step_minutes + 1):
        out += [k * step_minutes, -k * step_minutes]
    return out
