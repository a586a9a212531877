"""Recommendations: moved schedules weighed against the same sweep, the better ones ranked (decision 62)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.schedules import Schedule

from .sweep import Assessment, Sweep


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
