"""Fixed-interval schedules, counted from start_at or the job's anchor, with recorded jitter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from domain.errors import ValidationFailed

from .bounds import BOUND_KEYS, Bounded, Bounds
from .describe import every_seconds
from .localtime import utc_instant
from .params import Params

MAX_INTERVAL_SECONDS = 366 * 24 * 3600
MAX_JITTER_PERCENTAGE = 50
PARAMETERS = ("interval_seconds", "jitter_percentage", *BOUND_KEYS)


@dataclass(frozen=True, slots=True)
class IntervalSchedule(Bounded):
    """Fires at first + k * interval (k >= 0); first is start_at, else anchor + interval."""

    type: ClassVar[str] = "interval"
    interval_seconds: int
    jitter_percentage: int | float
    first: datetime
    bounds: Bounds = Bounds()

    @classmethod
    def parse(cls, params: Params, anchor: datetime) -> IntervalSchedule:
        seconds = params.integer("interval_seconds", 1, MAX_INTERVAL_SECONDS)
        jitter = params.number("jitter_percentage", 0, MAX_JITTER_PERCENTAGE, 0)
        bounds = Bounds.read(params)
        first = bounds.start_at or anchor + timedelta(seconds=seconds)
        return cls(seconds, jitter, first, bounds)

    def _next(self, t: datetime) -> datetime | None:
        if t < self.first:
            return self.first
        step = timedelta(seconds=self.interval_seconds)
        return self.first + ((t - self.first) // step + 1) * step

    def jittered(self, nominal: datetime, draw: float) -> datetime:
        """The actual fire instant for `nominal`, given the caller's recorded draw in [-1, 1]."""
        if isinstance(draw, bool) or not isinstance(draw, (int, float)) or not -1 <= draw <= 1:
            raise ValidationFailed("draw must be a number in [-1, 1]", {"field": "draw", "reason": repr(draw)})
        nominal = utc_instant(nominal, "nominal")
        shift = draw * self.jitter_percentage / 100 * self.interval_seconds
        return self.bounds.clamp(nominal + timedelta(seconds=shift))

    def describe(self) -> str:
        text = every_seconds(self.interval_seconds)
        if self.jitter_percentage:
            text += f", with up to {self.jitter_percentage}% jitter"
        return text + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {
            "interval_seconds": self.interval_seconds,
            "jitter_percentage": self.jitter_percentage,
            **self.bounds.to_dict(),
        }
