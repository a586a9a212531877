"""Request bodies as the OpenAPI document shows them: a create is a union tagged by the job's
`type`, whose schedule is that type's parameters; a validation likewise, parameters beside `type`.
(The routes decode with the looser structs of `requests.py` and let the domain refuse with its
own codes, e.g. ACTION_NOT_SUPPORTED for an unknown action type.)"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from interfaces.api.schemas import configuration as c

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Tags = Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=20)]
JobId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _CreateJob(msgspec.Struct, kw_only=True, tag_field="type"):
    name: Name
    action: c.Action
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    enabled: bool = True
    gateway_id: str | None = None
    tags: Tags = []
    options: c.JobOptions | None = None
    id: JobId | None = None
    check_conflicts: Annotated[bool, msgspec.Meta(
        description="Refuse with SCHEDULE_CONFLICT (409, the conflict report in details) instead of saving",
    )] = False


def _create(kind: str, parameters: type[msgspec.Struct]) -> type[msgspec.Struct]:
    return msgspec.defstruct(f"Create{kind.title()}Job", [("schedule", parameters)], bases=(_CreateJob,),
                             tag=kind, kw_only=True, module=__name__)


def _validate(kind: str, parameters: type[msgspec.Struct]) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        f"Validate{kind.title()}Schedule",
        [("count", Annotated[int, msgspec.Meta(ge=1, le=100)], 5), ("start", c.Instant | None, None)],
        bases=(parameters,), tag_field="type", tag=kind, kw_only=True, module=__name__,
    )


CreateJob = tuple(_create(kind, p) for kind, p in c.SCHEDULE_PARAMETERS.items())
ValidateSchedule = tuple(_validate(kind, p) for kind, p in c.SCHEDULE_PARAMETERS.items())


class UpdateJob(msgspec.Struct, kw_only=True):
    name: Name | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    type: c.ScheduleType | None = None
    enabled: bool | None = None
    gateway_id: str | None = None
    schedule: Annotated[dict[str, Any], msgspec.Meta(
        description="Parameters to change (same type: merged onto the current ones; a new type: whole)",
    )] | None = None
    action: c.ActionPatch | None = None
    tags: Tags | None = None
    options: c.JobOptions | None = None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    check_conflicts: bool = False


class ToggleJob(msgspec.Struct, kw_only=True):
    enabled: bool
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RunJob(msgspec.Struct, kw_only=True):
    force: bool = False
    parameters: dict[str, Any] = {}
