"""One-shot schedules: a single instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from .bounds import BOUND_KEYS, Bounded, Bounds
from .params import Params, instant_text, refuse

PARAMETERS = ("at", *BOUND_KEYS)


@dataclass(frozen=True, slots=True)
class OnceSchedule(Bounded):
    """Fires exactly once, at `at` (if that lies inside the bounds)."""

    type: ClassVar[str] = "once"
    at: datetime
    bounds: Bounds = Bounds()

    @classmethod
    def parse(cls, params: Params) -> OnceSchedule:
        at = params.instant("at")
        if at is None:
            raise refuse("at", "at is required", "missing")
        return cls(at, Bounds.read(params))

    def _next(self, t: datetime) -> datetime | None:
        return self.at if self.at > t else None

    def describe(self) -> str:
        return f"Once at {instant_text(self.at)}" + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"at": instant_text(self.at), **self.bounds.to_dict()}
