"""Schedules relative to sunrise, sunset, dawn or dusk at a place (astral)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from astral import Observer, sun

from .bounds import BOUND_KEYS, Bounded, Bounds
from .describe import minutes_phrase
from .localtime import UTC, zone
from .params import Params, refuse

Location = tuple[float, float]
EVENTS = {"sunrise": sun.sunrise, "sunset": sun.sunset, "dawn": sun.dawn, "dusk": sun.dusk}
PARAMETERS = ("event", "offset_minutes", "latitude", "longitude", "timezone", *BOUND_KEYS)
_SEARCH_DAYS = 800  # polar night/day lasts under 6 months; beyond this the event is gone for good


@lru_cache(maxsize=65536)
def _event_on(event: str, latitude: float, longitude: float, timezone: str, day: date) -> datetime | None:
    """The event's UTC instant on a local day (astral is slow: each day of a place is computed once)."""
    try:
        instant = EVENTS[event](Observer(latitude, longitude), day, tzinfo=zone(timezone))
    except ValueError:  # polar day or night: no such event that day
        return None
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SolarSchedule(Bounded):
    """Once per local day of `timezone` (UTC by default) at the event plus offset_minutes; days
    without the event are skipped. The zone decides which day an event belongs to (near the date
    line a UTC day may hold two sunsets of the place and the next none)."""

    type: ClassVar[str] = "sunrise"
    event: str
    offset_minutes: int
    latitude: float
    longitude: float
    bounds: Bounds = Bounds()
    timezone: str = "UTC"

    @classmethod
    def parse(cls, params: Params, default_location: Location | None) -> SolarSchedule:
        event = params.text("event", "sunrise")
        if event not in EVENTS:
            raise refuse("event", "event must be sunrise, sunset, dawn or dusk", f"got {event!r}")
        offset = params.integer("offset_minutes", -720, 720, 0)
        if params.raw("latitude", None) is None and params.raw("longitude", None) is None:
            if default_location is None:
                raise refuse("latitude", "latitude and longitude are required (no gateway location known)",
                              "missing latitude/longitude")
            latitude, longitude = default_location
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise refuse("latitude", "default location out of range", repr(default_location))
        else:
            latitude = params.number("latitude", -90, 90)
            longitude = params.number("longitude", -180, 180)
        timezone = params.text("timezone", "UTC")
        zone(timezone)
        return cls(event, offset, float(latitude), float(longitude), Bounds.read(params), timezone)

    def _on(self, day) -> datetime | None:
        instant = _event_on(self.event, self.latitude, self.longitude, self.timezone, day)
        return None if instant is None else instant + timedelta(minutes=self.offset_minutes)

    def _next(self, t: datetime) -> datetime | None:
        day = t.astimezone(zone(self.timezone)).date() - timedelta(days=2)
        for _ in range(_SEARCH_DAYS):
            fire = self._on(day)
            if fire is not None and fire > t:
                return fire
            day += timedelta(days=1)
        return None

    def fires_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every fire in [start, end), ascending: one astral computation per local day (where
        `next_after` may search up to _SEARCH_DAYS ahead for an event a polar season lacks)."""
        out: list[datetime] = []
        day = start.astimezone(zone(self.timezone)).date() - timedelta(days=2)
        last = end.astimezone(zone(self.timezone)).date() + timedelta(days=2)
        while day <= last:
            fire = self._on(day)
            day += timedelta(days=1)
            if fire is None or not start <= fire < end or (out and fire <= out[-1]):
                continue
            if self.bounds.start_at is not None and fire < self.bounds.start_at:
                continue
            if self.bounds.end_at is not None and fire > self.bounds.end_at:
                break
            out.append(fire)
        return out

    def describe(self) -> str:
        if self.offset_minutes == 0:
            when = f"At {self.event}"
        else:
            side = "after" if self.offset_minutes > 0 else "before"
            when = f"{minutes_phrase(self.offset_minutes)} {side} {self.event}"
        local = f" ({self.timezone})" if self.timezone != "UTC" else ""
        return f"{when} at {self.latitude:.2f}, {self.longitude:.2f}{local}" + self.bounds.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "offset_minutes": self.offset_minutes, "latitude": self.latitude,
                "longitude": self.longitude, "timezone": self.timezone, **self.bounds.to_dict()}
