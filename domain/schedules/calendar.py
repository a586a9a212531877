"""Daily, weekly and monthly schedules at a fixed local time in an IANA zone."""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from .bounds import BOUND_KEYS, Bounded, Bounds
from .describe import at_time, join_words
from .localtime import wall_of, wall_to_utc, zone
from .params import Params, refuse, time_text

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAILY_PARAMETERS = ("time", "timezone", "skip_weekends", *BOUND_KEYS)
WEEKLY_PARAMETERS = ("days", "time", "timezone", *BOUND_KEYS)
MONTHLY_PARAMETERS = ("day", "time", "timezone", *BOUND_KEYS)
_ONE_DAY = timedelta(days=1)


def _read_zone(params: Params) -> str:
    name = params.text("timezone", "UTC")
    zone(name)
    return name


def _first_after(t: datetime, zone_name: str, walls) -> datetime:
    """First resolved wall time strictly after t, from an ascending iterator of local wall times."""
    tz = zone(zone_name)
    for wall in walls(wall_of(t, tz).date()):
        fire = wall_to_utc(wall, tz)
        if fire > t:
            return fire
    raise AssertionError("unreachable: calendar schedules never run out")


@dataclass(frozen=True, slots=True)
class DailySchedule(Bounded):
    """Every day (optionally Monday to Friday only, judged locally) at a local time."""

    type: ClassVar[str] = "daily"
    time: time
    timezone: str = "UTC"
    skip_weekends: bool = False
    bounds: Bounds = Bounds()

    @classmethod
    def parse(cls, params: Params) -> DailySchedule:
        return cls(params.time_of_day(), _read_zone(params), params.boolean("skip_weekends", False), Bounds.read(params))

    def _walls(self, day: date):
        while True:
            if not (self.skip_weekends and day.weekday() >= 5):
                yield datetime.combine(day, self.time)
            day += _ONE_DAY

    def _next(self, t: datetime) -> datetime | None:
        return _first_after(t, self.timezone, self._walls)

    def describe(self) -> str:
        text = f"Every day {at_time(self.time, self.timezone)}"
        return text + (", skipping weekends" if self.skip_weekends else "") + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"time": time_text(self.time), "timezone": self.timezone, "skip_weekends": self.skip_weekends,
                **self.bounds.to_dict()}


@dataclass(frozen=True, slots=True)
class WeeklySchedule(Bounded):
    """On chosen weekdays ("mon".."sun", lower-case) at a local time."""

    type: ClassVar[str] = "weekly"
    days: tuple[int, ...]  # ISO weekday - 1, ascending and unique
    time: time
    timezone: str = "UTC"
    bounds: Bounds = Bounds()

    @classmethod
    def parse(cls, params: Params) -> WeeklySchedule:
        days = params.raw("days")
        if not isinstance(days, (list, tuple)) or not days:
            raise refuse("days", "days must be a non-empty list of mon..sun", "empty or not a list")
        if any(not isinstance(d, str) or d not in DAY_NAMES for d in days):
            raise refuse("days", "days must be lower-case mon, tue, wed, thu, fri, sat or sun", f"got {days!r}")
        if len(set(days)) != len(days):
            raise refuse("days", "days must not repeat", f"got {days!r}")
        numbers = tuple(sorted(DAY_NAMES.index(d) for d in days))
        return cls(numbers, params.time_of_day(), _read_zone(params), Bounds.read(params))

    def _walls(self, day: date):
        while True:
            if day.weekday() in self.days:
                yield datetime.combine(day, self.time)
            day += _ONE_DAY

    def _next(self, t: datetime) -> datetime | None:
        return _first_after(t, self.timezone, self._walls)

    def describe(self) -> str:
        names = join_words([_FULL_NAMES[d] for d in self.days])
        return f"Every {names} {at_time(self.time, self.timezone)}" + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"days": [DAY_NAMES[d] for d in self.days], "time": time_text(self.time), "timezone": self.timezone,
                **self.bounds.to_dict()}


@dataclass(frozen=True, slots=True)
class MonthlySchedule(Bounded):
    """On a day of the month (or "last") at a local time; 29-31 fall back to a shorter month's last day."""

    type: ClassVar[str] = "monthly"
    day: int | Literal["last"]
    time: time
    timezone: str = "UTC"
    bounds: Bounds = Bounds()

    @classmethod
    def parse(cls, params: Params) -> MonthlySchedule:
        day = params.raw("day")
        if day != "last":
            day = params.integer("day", 1, 31)
        return cls(day, params.time_of_day(), _read_zone(params), Bounds.read(params))

    def _walls(self, day: date):
        year, month = day.year, day.month
        while True:
            last = _cal.monthrange(year, month)[1]
            dom = last if self.day == "last" else min(self.day, last)
            yield datetime(year, month, dom, self.time.hour, self.time.minute, self.time.second)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _next(self, t: datetime) -> datetime | None:
        return _first_after(t, self.timezone, self._walls)

    def describe(self) -> str:
        if self.day == "last":
            which = "the last day"
        elif self.day > 28:
            which = f"day {self.day} (or the last day, in shorter months)"
        else:
            which = f"day {self.day}"
        return f"On {which} of every month {at_time(self.time, self.timezone)}" + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "time": time_text(self.time), "timezone": self.timezone, **self.bounds.to_dict()}
