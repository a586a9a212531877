"""The schedule types on offer, and parse_schedule that validates params into one of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from domain.errors import ValidationFailed

from . import calendar, cron, interval, once, solar
from .localtime import utc_instant
from .params import Params

Location = tuple[float, float]


class Schedule(Protocol):
    """What every schedule offers; concrete classes are frozen dataclasses."""

    type: str

    def next_after(self, t: datetime) -> datetime | None: ...
    def next_n(self, t: datetime, n: int) -> list[datetime]: ...
    def describe(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...


SCHEDULE_TYPES: dict[str, dict[str, Any]] = {
    "interval": {"description": "Execute at fixed time intervals", "parameters": list(interval.PARAMETERS)},
    "daily": {"description": "Execute once per day at specific time", "parameters": list(calendar.DAILY_PARAMETERS)},
    "weekly": {"description": "Execute on chosen days of the week at specific time",
               "parameters": list(calendar.WEEKLY_PARAMETERS)},
    "monthly": {"description": "Execute once per month on a specific day at specific time",
                "parameters": list(calendar.MONTHLY_PARAMETERS)},
    "cron": {"description": "Execute based on cron expression", "parameters": list(cron.PARAMETERS)},
    "sunrise": {"description": "Execute relative to sunrise, sunset, dawn or dusk",
                "parameters": list(solar.PARAMETERS)},
    "once": {"description": "Execute once at a specific instant", "parameters": list(once.PARAMETERS)},
}


def parse_schedule(
    schedule_type: str,
    params: Mapping[str, Any],
    *,
    anchor: datetime,
    default_location: Location | None = None,
    stored: bool = False,
) -> Schedule:
    """Validate `params` for `schedule_type` and build the schedule.

    `anchor` is the instant an interval without start_at counts from (the job's creation/update
    instant); `default_location` is the gateway's (latitude, longitude) for sunrise schedules.
    """
    anchor = utc_instant(anchor, "anchor")
    if schedule_type not in SCHEDULE_TYPES:
        raise ValidationFailed(
            f"Unknown schedule type: {schedule_type!r}",
            {"field": "type", "reason": f"expected one of {', '.join(SCHEDULE_TYPES)}"},
        )
    fields = Params(params, SCHEDULE_TYPES[schedule_type]["parameters"], stored=stored)
    if schedule_type == "interval":
        return interval.IntervalSchedule.parse(fields, anchor)
    if schedule_type == "daily":
        return calendar.DailySchedule.parse(fields)
    if schedule_type == "weekly":
        return calendar.WeeklySchedule.parse(fields)
    if schedule_type == "monthly":
        return calendar.MonthlySchedule.parse(fields)
    if schedule_type == "cron":
        return cron.CronSchedule.parse(fields, anchor)
    if schedule_type == "sunrise":
        return solar.SolarSchedule.parse(fields, default_location)
    return once.OnceSchedule.parse(fields)
