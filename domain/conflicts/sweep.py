"""The sweep: a candidate's runs against the other jobs' runs, as conflicts per job and type
(module docstring of domain.conflicts for the rules; decision 60 for the arrays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .kinds import (
    CONCURRENCY_LIMIT,
    SEVERITY_ORDER,
    SHARED_TARGET,
    TIME_OVERLAP,
    TYPE_ORDER,
    severity,
)

_JOB_SPAN = np.int64(1) << 42  # per-job key space: run starts are kept within +-2**40 ms of the origin
_BIAS = np.int64(1) << 41
_CELLS = 2_000_000  # (job, candidate run) pairs searched in one batch


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


class Sweep:
    """The other jobs of a gateway, indexed once; `assess` a candidate's runs against them."""

    def __init__(self, others: Sequence[PlannedJob], max_concurrent: int, origin_ms: int) -> None:
        self.others = list(others)
        self.max_concurrent = max_concurrent
        self._origin = origin_ms - int(_BIAS)
        count = len(self.others)
        self._durations = np.array([j.duration_ms for j in self.others], dtype=np.int64)
        self._base = np.arange(count, dtype=np.int64) * _JOB_SPAN
        sizes = np.array([j.starts.size for j in self.others], dtype=np.int64)
        n = int(sizes.sum())
        starts = self._rel(np.concatenate([j.starts for j in self.others])) if count else np.empty(0, np.int64)
        # Sorted by construction (job, then start); the sentinel ends every search inside the array.
        self._keys = np.empty(n + 1, np.int64)
        np.add(starts, np.repeat(self._base, sizes), out=self._keys[:n])
        self._keys[n] = np.iinfo(np.int64).max
        # Events keyed 2t (an end) and 2t+1 (a start): at one instant a run ends before one starts,
        # and a key's parity says which it is (equal keys are the same step, so any order of them).
        events = np.empty(2 * n, np.int64)
        np.add(starts, np.repeat(self._durations, sizes), out=events[:n])
        events[n:] = starts
        events *= 2
        events[n:] += 1
        events.sort()
        self._event_keys = events
        # The level after k events: starts among them minus ends, 2 * starts - k.
        self._levels = np.zeros(2 * n + 2, np.int32)
        np.cumsum(events & 1, out=self._levels[1:-1], dtype=np.int32)
        self._levels[1:-1] *= 2
        self._levels[1:-1] -= np.arange(1, 2 * n + 1, dtype=np.int32)

    def _rel(self, ms: np.ndarray) -> np.ndarray:
        return np.asarray(ms, dtype=np.int64) - self._origin

    def _peaks(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Most other runs at once within each [start, end): the highest level from the one at its
        start through each event strictly inside it (those levels gathered, then reduced per run)."""
        if starts.size == 0 or self._event_keys.size == 0:
            return np.zeros(starts.size, np.int64)
        first = np.searchsorted(self._event_keys, 2 * starts + 1, side="right")  # the level at start
        last = np.searchsorted(self._event_keys, 2 * ends, side="left")  # events strictly inside
        sizes = last - first + 1
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        gathered = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(first - offsets, sizes)
        return np.maximum.reduceat(self._levels[gathered], offsets)

    def _hits(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(job, candidate run) -> whether some run of that job overlaps that candidate run: its
        first run starting after (candidate start - its duration) starts before the candidate ends."""
        count = len(self.others)
        hits = np.zeros((count, starts.size), bool)
        if count == 0 or starts.size == 0:
            return hits
        rows = max(1, _CELLS // starts.size)
        for lo in range(0, count, rows):
            base = self._base[lo:lo + rows, None]
            after = np.searchsorted(self._keys, base + starts[None, :] - self._durations[lo:lo + rows, None], "right")
            hits[lo:lo + rows] = self._keys[after] < base + ends[None, :]
        return hits

    def assess(self, candidate_starts: np.ndarray, duration_ms: int, targets: frozenset[str] = frozenset(),
               *, summary: bool = False) -> Assessment:
        """The candidate's conflicts; `summary`: their counts only (what ranking moves needs)."""
        starts = np.unique(self._rel(candidate_starts))
        ends = starts + duration_ms
        hits = self._hits(starts, ends)
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
        conflicts.sort(key=lambda c: (SEVERITY_ORDER[c.severity], TYPE_ORDER[c.conflict_type], c.first_start, c.job_id))
        return Assessment(count, high, runs, colliding, peak, tuple(conflicts))

    def _conflict(self, job: PlannedJob, kind: str, columns: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  runs: int, shared: tuple[str, ...]) -> Conflict:
        first = int(np.argmax(columns))
        s, e = int(starts[first]), int(ends[first])
        k = int(np.searchsorted(job.starts, s + self._origin - job.duration_ms, "right"))  # its first overlapping
        other_start = int(job.starts[k]) - self._origin
        span_start, span_end = max(s, other_start), min(e, other_start + job.duration_ms)
        occurrences = int(columns.sum())
        return Conflict(
            job_id=job.job_id, job_name=job.name, conflict_type=kind, severity=severity(kind, occurrences, runs),
            occurrences=occurrences, first_start=span_start + self._origin, first_end=span_end + self._origin,
            shared_targets=shared,
        )
