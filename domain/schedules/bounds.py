"""The optional start_at/end_at window every schedule shares, and the common firing loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .localtime import utc_instant
from .params import Params, instant_text, refuse

BOUND_KEYS = ("start_at", "end_at")
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Bounds:
    """No fire before start_at nor after end_at (both inclusive, both optional)."""

    start_at: datetime | None = None
    end_at: datetime | None = None

    @classmethod
    def read(cls, params: Params) -> Bounds:
        start_at = params.instant("start_at", None)
        end_at = params.instant("end_at", None)
        if start_at is not None and end_at is not None and end_at <= start_at:
            raise refuse("end_at", "end_at must be after start_at", "end_at <= start_at")
        return cls(start_at, end_at)

    def search_from(self, t: datetime) -> datetime:
        """Where to search strictly after so that start_at itself may fire."""
        if self.start_at is not None and t < self.start_at:
            return self.start_at - _TICK
        return t

    def admit(self, fire: datetime | None) -> datetime | None:
        if fire is None or (self.end_at is not None and fire > self.end_at):
            return None
        return fire

    def clamp(self, instant: datetime) -> datetime:
        if self.start_at is not None and instant < self.start_at:
            return self.start_at
        if self.end_at is not None and instant > self.end_at:
            return self.end_at
        return instant

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.start_at is not None:
            out["start_at"] = instant_text(self.start_at)
        if self.end_at is not None:
            out["end_at"] = instant_text(self.end_at)
        return out

    def describe(self) -> str:
        parts = []
        if self.start_at is not None:
            parts.append(f"from {instant_text(self.start_at)}")
        if self.end_at is not None:
            parts.append(f"until {instant_text(self.end_at)}")
        return ", " + " ".join(parts) if parts else ""


class Bounded:
    """Mixin: next_after/next_n over a subclass's unbounded `_next(t)` and its `bounds` field."""

    __slots__ = ()
    bounds: Bounds

    def _next(self, t: datetime) -> datetime | None:
        raise NotImplementedError

    def next_after(self, t: datetime) -> datetime | None:
        """First fire instant strictly after t (UTC), None if none remain."""
        t = utc_instant(t)
        try:
            return self.bounds.admit(self._next(self.bounds.search_from(t)))
        except OverflowError:  # the next instant would lie past the calendar's end: none remains
            return None

    def next_n(self, t: datetime, n: int) -> list[datetime]:
        """n successive next_after calls (fewer if the schedule runs out)."""
        out: list[datetime] = []
        for _ in range(n):
            fire = self.next_after(t)
            if fire is None:
                break
            out.append(fire)
            t = fire
        return out
