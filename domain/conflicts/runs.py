"""Predicted run starts: a schedule's fire instants over a span or within windows, as epoch ms
(numpy arrays), by arithmetic where it is exact and through the schedule's own `next_after` elsewhere
(decision 63); and the windows around a candidate's runs where other runs can touch them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np

from domain.schedules import CronSchedule, IntervalSchedule, Schedule, SolarSchedule
from domain.schedules.localtime import next_transition, zone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DAY = timedelta(days=1)


def epoch_ms(instant: datetime) -> int:
    return (instant - EPOCH) // _MS


def _ceil_ms(instant: datetime) -> int:
    return -((EPOCH - instant) // _MS)


def instant_of(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


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
    """A cron schedule's fires in [start, end) by array arithmetic over its fields, stretch by
    stretch of one UTC offset, for an hour field of `*` or a step (every real matching instant: its
    `next_after` walks the same stretches). Other expressions fire each local time once, so a wall
    repeated after a change back is no fire: arithmetic only where no change lies within the span
    or the day before it. None (the caller steps through next_after) otherwise, and for L, W and #."""
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
    if not schedule.keeps_frequency:
        # A local time fires once: after a change back, the repeated walls fired before it.
        if next_transition(start - _DAY, end, tz) is not None:
            return None
        edges = [start, end]
    else:
        edges = [start]
        while (change := next_transition(edges[-1] - _MS if len(edges) == 1 else edges[-1], end, tz)) is not None:
            if change >= end:
                break
            edges.append(change)
        edges.append(end)
    parts = [_walls(fields, a, b, tz.utcoffset(a.astimezone(tz)) // _MS)
             for a, b in zip(edges, edges[1:], strict=False) if a < b]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _walls(fields: tuple, start: datetime, end: datetime, offset: int) -> np.ndarray:
    """The instants in [start, end) whose wall time at `offset` (ms) matches the cron fields."""
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
