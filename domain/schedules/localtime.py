"""Local wall time <-> UTC instants under the DST policy, and a zone's offset transitions."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import ValidationFailed

UTC = timezone.utc
_SCAN_STEP = timedelta(hours=6)


def zone(name: str, field: str = "schedule.timezone") -> ZoneInfo:
    """The IANA zone called `name`, or ValidationFailed naming `field`."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationFailed(
            f"Unknown time zone: {name!r}",
            {"field": field, "reason": f"not an IANA time zone: {exc}"},
        ) from None


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    if not name or name != name.strip():
        raise ValueError("empty or padded name")
    return ZoneInfo(name)


# Instants a schedule may name: far enough inside datetime's range (years 1..9999) that every
# computation around them (an offset, a year's interval, a cron search) stays representable.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def supported_instant(value: datetime, field: str) -> datetime:
    """`value` (aware) in UTC, refused with ValidationFailed outside [EARLIEST, LATEST)."""
    try:
        instant = utc_instant(value, field)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past datetime's last UTC instant
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise ValidationFailed(
            f"{field} must lie from 1970-01-01T00:00:00Z to before 9000-01-01T00:00:00Z",
            {"field": field, "reason": "out of the supported range"},
        )
    return instant


def utc_instant(value: datetime, field: str = "t") -> datetime:
    """`value` as a UTC datetime; naive or non-datetime input is refused."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationFailed(
            f"{field} must be a timezone-aware datetime",
            {"field": field, "reason": "naive or not a datetime"},
        )
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def wall_of(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive local wall time of a UTC instant."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Resolve a naive wall time: a gap time -> first instant after the gap; a repeated time -> first."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    return _gap_end(wall, tz)


def _gap_end(wall: datetime, tz: ZoneInfo) -> datetime:
    # In a gap PEP 495 gives fold=0 the offset before and fold=1 the offset after the jump,
    # so the transition lies in (after-mapping, before-mapping].
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return _first_change(lo, hi, tz)


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    return tz.utcoffset(instant.astimezone(tz))  # type: ignore[return-value]


def _first_change(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """Smallest whole-second instant in (lo, hi] whose offset differs from lo's (hi's differs)."""
    before = _offset(lo, tz)
    lo = lo.replace(microsecond=0)
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
        if _offset(mid, tz) == before:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=8192)
def _year_transitions(tz: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """UTC instants in `year` where the offset changes (two changes within 6 h would be missed)."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    found = []
    prev_t, prev_off = start, _offset(start, tz)
    t = start
    while t < end:
        t = min(t + _SCAN_STEP, end)
        off = _offset(t, tz)
        if off != prev_off:
            found.append(_first_change(prev_t, t, tz))
        prev_t, prev_off = t, off
    return tuple(found)


def next_transition(after: datetime, until: datetime, tz: ZoneInfo) -> datetime | None:
    """First instant in (after, until] where the zone's UTC offset changes, if any."""
    if tz.key == "UTC":
        return None
    for year in range(after.year, until.year + 1):
        if year < 1 or year > 9998:
            return None
        changes = _year_transitions(tz, year)
        i = bisect_right(changes, after)
        if i < len(changes):
            return changes[i] if changes[i] <= until else None
    return None
