"""Cron schedules on croniter, wrapped so DST follows the classic (Vixie) cron rule."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from croniter import CroniterBadDateError, CroniterError, croniter

from domain.errors import InvalidCronExpression

from .bounds import BOUND_KEYS, Bounded, Bounds
from .describe import cron_text
from .localtime import UTC, next_transition, wall_of, wall_to_utc, zone
from .params import Params, refuse

PARAMETERS = ("cron_expression", "timezone", *BOUND_KEYS)
_ALIASES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_TICK = timedelta(microseconds=1)
_MAX_STEPS = 10_000


class _WallCron:
    """One parsed croniter reused across calls (re-parsing costs ~4x a lookup); a lock keeps it thread-safe."""

    __slots__ = ("_iter", "_lock")

    def __init__(self, expression: str) -> None:
        self._iter = croniter(expression, datetime(2000, 1, 1), second_at_beginning=True)
        self._lock = threading.Lock()

    def after(self, wall: datetime) -> datetime | None:
        """First naive wall time matching strictly after `wall`; None if croniter finds none."""
        with self._lock:
            try:
                self._iter.set_current(wall, force=True)
                return self._iter.get_next(datetime)
            except CroniterBadDateError:
                return None


def _invalid(expression: str, reason: str) -> InvalidCronExpression:
    return InvalidCronExpression(
        f"Invalid cron expression {expression!r}: {reason}",
        {"field": "schedule.cron_expression", "reason": reason},
    )


@dataclass(frozen=True, slots=True)
class CronSchedule(Bounded):
    """5 fields, or 6 with seconds first. Hour field `*` or a step: every real matching instant
    (frequency kept through DST); otherwise each matching local time once (gap -> first instant after)."""

    type: ClassVar[str] = "cron"
    cron_expression: str
    timezone: str = "UTC"
    bounds: Bounds = Bounds()
    _cron: _WallCron = field(init=False, repr=False, compare=False)
    _absolute: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = _ALIASES.get(self.cron_expression.lower(), self.cron_expression)
        fields = text.split()
        if len(fields) not in (5, 6):
            raise _invalid(self.cron_expression, f"expected 5 fields, or 6 with seconds first; got {len(fields)}")
        try:
            cron = _WallCron(text)
        except (CroniterError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise _invalid(self.cron_expression, str(exc) or type(exc).__name__) from None
        hour = fields[-4]
        object.__setattr__(self, "_cron", cron)
        object.__setattr__(self, "_absolute", "*" in hour or "/" in hour)

    @classmethod
    def parse(cls, params: Params, anchor: datetime) -> CronSchedule:
        expression = " ".join(params.text("cron_expression").split())
        if not expression:
            raise refuse("cron_expression", "cron_expression must not be empty", "empty")
        name = params.text("timezone", "UTC")
        zone(name)
        schedule = cls(expression, name, Bounds.read(params))
        if schedule._cron.after(datetime(anchor.year, 1, 1)) is None:
            raise _invalid(expression, "the expression never fires (no matching date found)")
        return schedule

    def _next(self, t: datetime) -> datetime | None:
        tz = zone(self.timezone)
        if self._absolute:
            return self._next_absolute(t, tz)
        wall = wall_of(t, tz)
        for _ in range(_MAX_STEPS):
            candidate = self._cron.after(wall)
            if candidate is None:
                return None
            fire = wall_to_utc(candidate, tz)
            if fire > t:
                return fire
            wall = candidate
        return None

    def _next_absolute(self, t: datetime, tz) -> datetime | None:
        # Walk constant-offset stretches: inside one, matching real instants are wall matches minus
        # that offset; a transition before the candidate restarts the search at the transition.
        cur, start = t, wall_of(t, tz)
        for _ in range(_MAX_STEPS):
            offset = tz.utcoffset(cur.astimezone(tz))
            candidate = self._cron.after(start)
            if candidate is None:
                return None
            fire = (candidate - offset).replace(tzinfo=UTC)
            change = next_transition(cur, fire, tz)
            if change is None:
                return fire
            cur, start = change, wall_of(change, tz) - _TICK
        return None

    def gap_wall_time(self, instant: datetime) -> datetime | None:
        """The local wall time a fire at `instant` stands in for when that time did not exist
        (spring-forward: the first matching wall time in the gap, fired at the gap's end); None for
        a regular fire and for hourly-or-finer expressions, which keep their absolute frequency."""
        tz = zone(self.timezone)
        if self._absolute or tz.key == "UTC":
            return None
        instant = instant.astimezone(UTC)
        before, after = tz.utcoffset((instant - _TICK).astimezone(tz)), tz.utcoffset(instant.astimezone(tz))
        if before is None or after is None or after <= before:
            return None  # not the end of a gap
        naive = instant.replace(tzinfo=None)
        match = self._cron.after(naive + before - _TICK)  # the gap's wall times are [naive+before, naive+after)
        return match if match is not None and match < naive + after else None

    def plain_fields(self) -> tuple[tuple[int, ...] | None, ...] | None:
        """(seconds, minutes, hours, days of month, months, days of week 0=Sunday), each the
        matching numbers or None for every value; None when the expression uses L, W or #."""
        expanded = self._cron._iter.expanded
        if getattr(self._cron._iter, "nth_weekday_of_month", None) or len(expanded) > 6:
            return None
        fields = [*expanded[:5], expanded[5] if len(expanded) > 5 else [0]]
        out: list[tuple[int, ...] | None] = []
        for values in (fields[5], *fields[:5]):
            if values == ["*"]:
                out.append(None)
            elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                out.append(tuple(sorted(set(values))))
            else:
                return None
        return tuple(out)

    def describe(self) -> str:
        text = _ALIASES.get(self.cron_expression.lower(), self.cron_expression)
        return cron_text(text, self.timezone) + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"cron_expression": self.cron_expression, "timezone": self.timezone, **self.bounds.to_dict()}
