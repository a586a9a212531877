"""A job's configuration on the wire: schedule parameters per type, actions as a union tagged by
`type`, options. The values the domain validates; these say their shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from domain.actions import FILE_OPERATIONS, MAX_RETAIN_DAYS, SYSTEM_OPERATIONS
from domain.options import MISFIRE_POLICIES, OVERLAP_POLICIES
from domain.schedules import SCHEDULE_TYPES
from domain.schedules.calendar import DAY_NAMES
from domain.schedules.interval import MAX_INTERVAL_SECONDS, MAX_JITTER_PERCENTAGE
from domain.schedules.solar import EVENTS

ScheduleType = Literal[tuple(SCHEDULE_TYPES)]  # type: ignore[valid-type]
Instant = Annotated[datetime, msgspec.Meta(
    description="UTC ISO-8601 with Z (an offset is accepted on input)", extra_json_schema={"format": "date-time"},
)]
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^\d\d:\d\d(:\d\d)?$", description="local HH:MM or HH:MM:SS")]
Zone = Annotated[str, msgspec.Meta(description="IANA time zone, e.g. Europe/Berlin", examples=["UTC"])]


# In a request, a parameter given as null counts as not given (the domain reads it so): the
# optional ones are nullable. Answers never hold null there.


class Bounded(msgspec.Struct, kw_only=True):
    start_at: Instant | None = None
    end_at: Instant | None = None


class IntervalParameters(Bounded, kw_only=True):
    interval_seconds: Annotated[int, msgspec.Meta(ge=1, le=MAX_INTERVAL_SECONDS)]
    jitter_percentage: Annotated[float, msgspec.Meta(ge=0, le=MAX_JITTER_PERCENTAGE)] | None = 0


class DailyParameters(Bounded, kw_only=True):
    time: TimeOfDay
    timezone: Zone | None = "UTC"
    skip_weekends: bool | None = False


class WeeklyParameters(Bounded, kw_only=True):
    days: Annotated[list[Literal[DAY_NAMES]], msgspec.Meta(min_length=1, max_length=7)]  # type: ignore[valid-type]
    time: TimeOfDay
    timezone: Zone | None = "UTC"


class MonthlyParameters(Bounded, kw_only=True):
    day: Annotated[int, msgspec.Meta(ge=1, le=31)] | Literal["last"]
    time: TimeOfDay
    timezone: Zone | None = "UTC"


class CronParameters(Bounded, kw_only=True):
    cron_expression: Annotated[str, msgspec.Meta(description="5 or 6 fields (croniter)", examples=["0 9-17 * * 1-5"])]
    timezone: Zone | None = "UTC"


class SunriseParameters(Bounded, kw_only=True):
    event: Literal[tuple(EVENTS)] | None = "sunrise"  # type: ignore[valid-type]
    offset_minutes: Annotated[int, msgspec.Meta(ge=-720, le=720)] | None = 0
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    timezone: Zone | None = "UTC"


class OnceParameters(Bounded, kw_only=True):
    at: Instant


SCHEDULE_PARAMETERS: dict[str, type[msgspec.Struct]] = {
    "interval": IntervalParameters, "daily": DailyParameters, "weekly": WeeklyParameters,
    "monthly": MonthlyParameters, "cron": CronParameters, "sunrise": SunriseParameters, "once": OnceParameters,
}
assert set(SCHEDULE_PARAMETERS) == set(SCHEDULE_TYPES)


def _refs(structs: Any) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/schemas/{s.__name__}"} for s in structs]


# A schedule's parameters: which set applies is named by the job's `type`, beside it.
Schedule = Annotated[dict[str, Any], msgspec.Meta(
    description="The parameters of the job's schedule type (the job's `type` says which)",
    extra_json_schema={"anyOf": _refs(SCHEDULE_PARAMETERS.values())},
)]


class ListedScheduleParameters(msgspec.Struct):
    next_execution: Instant | None


ListedSchedule = Annotated[dict[str, Any], msgspec.Meta(
    description="The schedule's parameters and the job's next_execution",
    extra_json_schema={"allOf": [{"anyOf": _refs(SCHEDULE_PARAMETERS.values())},
                                 {"$ref": "#/components/schemas/ListedScheduleParameters"}]},
)]


class PublishAction(msgspec.Struct, tag_field="type", tag="publish", kw_only=True):
    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    payload_template: str | None = ""
    qos: Literal[0, 1, 2] | None = 0
    retain: bool | None = False


class SystemAction(msgspec.Struct, tag_field="type", tag="system", kw_only=True):
    operation: Literal[SYSTEM_OPERATIONS]  # type: ignore[valid-type]
    parameters: dict[str, Any] | None = {}


class FileAction(msgspec.Struct, tag_field="type", tag="file", kw_only=True):
    operation: Literal[FILE_OPERATIONS]  # type: ignore[valid-type]
    pattern: Annotated[str, msgspec.Meta(description="relative to the files root")]
    retain_days: Annotated[int, msgspec.Meta(ge=0, le=MAX_RETAIN_DAYS)] | None = 7
    destination: str | None = None


Action = PublishAction | SystemAction | FileAction

# A change of an action: without `type` (or the same) it is merged onto the current one.
ActionPatch = Annotated[dict[str, Any], msgspec.Meta(
    description="Fields of the action to change; a different `type` needs the action whole",
    extra_json_schema={"anyOf": [*_refs((PublishAction, SystemAction, FileAction)), {"type": "object"}]},
)]


class JobOptions(msgspec.Struct, kw_only=True):
    misfire_policy: Literal[MISFIRE_POLICIES] = "run_once"  # type: ignore[valid-type]
    misfire_cap: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    overlap_policy: Literal[OVERLAP_POLICIES] = "skip"  # type: ignore[valid-type]
    timeout_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=86400)] = 300.0
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    backoff_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    backoff_multiplier: Annotated[float, msgspec.Meta(ge=1, le=10)] = 2.0
