"""A schedule moved by a whole number of minutes, as an operator would re-set it (for conflict
recommendations): the local time of a calendar schedule, the minute/hour fields of a simple cron
expression, the phase of an interval, the offset of a solar schedule, the instant of a one-shot.
None where the schedule cannot be moved so (the move would change its days, or the expression is
not a plain minute/hour one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from .bounds import Bounds
from .calendar import DailySchedule, MonthlySchedule, WeeklySchedule
from .catalog import Schedule
from .cron import CronSchedule
from .interval import IntervalSchedule
from .once import OnceSchedule
from .solar import SolarSchedule

_DAY = 24 * 60


def _moved_time(value: time, minutes: int, *, wrap: bool) -> time | None:
    total = value.hour * 60 + value.minute + minutes
    if not wrap and not 0 <= total < _DAY:
        return None
    total %= _DAY
    return time(total // 60, total % 60, value.second)


def _cron_numbers(field: str) -> list[int] | None:
    """A field of plain numbers ("5", "1,7,13"), or a plain range ("9-17"); else None."""
    numbers: list[int] = []
    for part in field.split(","):
        if part.isdigit():
            numbers.append(int(part))
        elif "-" in part and all(p.isdigit() for p in part.split("-", 1)):
            low, high = (int(p) for p in part.split("-", 1))
            if low > high:
                return None
            numbers.extend(range(low, high + 1))
        else:
            return None
    return numbers


def _moved_cron(schedule: CronSchedule, minutes: int) -> CronSchedule | None:
    fields = schedule.cron_expression.split()
    if len(fields) == 6:
        seconds, fields = fields[0], fields[1:]
        if not seconds.isdigit():
            return None
    else:
        seconds = None
    if len(fields) != 5 or not fields[0].isdigit():
        return None
    minute, hour, *days = fields
    total = int(minute) + minutes
    if hour == "*":
        new_minute, new_hour = total % 60, "*"
    else:
        hours = _cron_numbers(hour)
        if hours is None or any(h > 23 for h in hours):
            return None
        shifted = [h + total // 60 for h in hours]
        if any(not 0 <= h < 24 for h in shifted) and days != ["*", "*", "*"]:
            return None  # the move would cross midnight into other days of a day-restricted expression
        new_minute = total % 60
        new_hour = ",".join(str(h) for h in sorted({h % 24 for h in shifted}))
    text = " ".join([*([seconds] if seconds is not None else []), str(new_minute), new_hour, *days])
    return CronSchedule(text, schedule.timezone, schedule.bounds)


def shifted(schedule: Schedule, minutes: int) -> Schedule | None:
    """`schedule` moved later by `minutes` (earlier when negative), or None if it cannot be."""
    if minutes == 0:
        return schedule
    delta = timedelta(minutes=minutes)
    if isinstance(schedule, DailySchedule):
        moved = _moved_time(schedule.time, minutes, wrap=not schedule.skip_weekends)
        return None if moved is None else replace(schedule, time=moved)
    if isinstance(schedule, (WeeklySchedule, MonthlySchedule)):
        moved = _moved_time(schedule.time, minutes, wrap=False)
        return None if moved is None else replace(schedule, time=moved)
    if isinstance(schedule, IntervalSchedule):
        first = schedule.first + delta
        if schedule.bounds.end_at is not None and first > schedule.bounds.end_at:
            return None
        return replace(schedule, first=first, bounds=Bounds(first, schedule.bounds.end_at))
    if isinstance(schedule, CronSchedule):
        return _moved_cron(schedule, minutes)
    if isinstance(schedule, SolarSchedule):
        offset = schedule.offset_minutes + minutes
        return replace(schedule, offset_minutes=offset) if -720 <= offset <= 720 else None
    if isinstance(schedule, OnceSchedule):
        return replace(schedule, at=schedule.at + delta)
    return None


def start_label(schedule: Schedule) -> str:
    """How the moved start reads to an operator: "02:10", "10 2 * * *", "sunset +40 min"..."""
    if isinstance(schedule, (DailySchedule, WeeklySchedule, MonthlySchedule)):
        return schedule.time.strftime("%H:%M:%S" if schedule.time.second else "%H:%M")
    if isinstance(schedule, CronSchedule):
        return f"cron '{schedule.cron_expression}'"
    if isinstance(schedule, SolarSchedule):
        return f"{schedule.event} {schedule.offset_minutes:+d} min"
    if isinstance(schedule, IntervalSchedule):
        return f"an interval starting {_instant(schedule.first)}"
    if isinstance(schedule, OnceSchedule):
        return _instant(schedule.at)
    return schedule.describe()


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
