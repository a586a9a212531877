"""The configuration of a job: name, description, tags, schedule, action and options, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actions import merge_action, parse_action
from domain.errors import ValidationFailed
from domain.options import JobOptions, parse_options
from domain.schedules import Location, Schedule, parse_schedule

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_TAGS = 20
MAX_TAG = 64


def _text(value: Any, field: str, limit: int, *, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", {"field": field, "reason": "wrong type"})
    text = value.strip()
    if required and not text:
        raise ValidationFailed(f"{field} must not be empty", {"field": field, "reason": "empty"})
    if "\x00" in text:
        raise ValidationFailed(f"{field} must not contain NUL characters", {"field": field, "reason": "NUL character"})
    if len(text) > limit:
        raise ValidationFailed(f"{field} must be at most {limit} characters", {"field": field, "reason": "too long"})
    return text


def check_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        raise ValidationFailed("tags must be a list of strings", {"field": "tags", "reason": "wrong type"})
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(f"at most {MAX_TAGS} tags", {"field": "tags", "reason": "too many"})
    clean: list[str] = []
    for tag in tags:
        name = _text(tag, "tags", MAX_TAG, required=True)
        if "," in name:
            raise ValidationFailed("a tag must not contain ','", {"field": "tags", "reason": "comma"})
        if name not in clean:
            clean.append(name)
    return clean


@dataclass(frozen=True)
class JobConfig:
    """Everything an operator sets on a job; the aggregate stores its plain-value form."""

    name: str
    description: str
    schedule_type: str
    schedule: dict[str, Any]
    schedule_anchor: datetime
    action: dict[str, Any]
    tags: list[str]
    options: dict[str, Any]

    def build_schedule(self, default_location: Location | None = None) -> Schedule:
        return parse_schedule(
            self.schedule_type, self.schedule, anchor=self.schedule_anchor, default_location=default_location,
            stored=True,
        )

    @property
    def job_options(self) -> JobOptions:
        return JobOptions(**self.options)

    @classmethod
    def new(
        cls, fields: Mapping[str, Any], *, now: datetime, default_location: Location | None
    ) -> JobConfig:
        """Validate a create request's fields (already type-checked at the edge)."""
        for key in ("name", "type", "schedule", "action"):
            if fields.get(key) is None:
                raise ValidationFailed(f"{key} is required", {"field": key, "reason": "missing"})
        schedule_type = fields["type"]
        schedule = parse_schedule(schedule_type, fields["schedule"], anchor=now, default_location=default_location)
        return cls(
            name=_text(fields["name"], "name", MAX_NAME, required=True),
            description=_text(fields.get("description") or "", "description", MAX_DESCRIPTION, required=False),
            schedule_type=schedule.type,
            schedule=schedule.to_dict(),
            schedule_anchor=now,
            action=parse_action(fields["action"]).to_dict(),
            tags=check_tags(fields.get("tags") or []),
            options=parse_options(fields.get("options")).to_dict(),
        )

    def patched(self, patch: Mapping[str, Any], *, now: datetime, default_location: Location | None) -> JobConfig:
        """PUT semantics: given fields change, others stay. A schedule patch of the same type
        is merged onto the current parameters; a new type needs its schedule whole."""
        schedule_type, schedule, anchor = self.schedule_type, self.schedule, self.schedule_anchor
        new_type = patch.get("type") or schedule_type
        if new_type != schedule_type or patch.get("schedule") is not None:
            given = patch.get("schedule") or {}
            if not isinstance(given, Mapping):
                raise ValidationFailed("schedule must be an object", {"field": "schedule", "reason": "wrong type"})
            params = {**schedule, **given} if new_type == schedule_type else dict(given)
            built = parse_schedule(new_type, params, anchor=now, default_location=default_location)
            if built.to_dict() != schedule or new_type != schedule_type:
                schedule_type, schedule, anchor = built.type, built.to_dict(), now
        action = self.action
        if patch.get("action") is not None:
            if not isinstance(patch["action"], Mapping):
                raise ValidationFailed("action must be an object", {"field": "action", "reason": "wrong type"})
            action = merge_action(parse_action(self.action), patch["action"]).to_dict()
        return JobConfig(
            name=_text(patch["name"], "name", MAX_NAME, required=True) if patch.get("name") is not None else self.name,
            description=(
                _text(patch["description"], "description", MAX_DESCRIPTION, required=False)
                if patch.get("description") is not None
                else self.description
            ),
            schedule_type=schedule_type,
            schedule=schedule,
            schedule_anchor=anchor,
            action=action,
            tags=check_tags(patch["tags"]) if patch.get("tags") is not None else self.tags,
            options=parse_options(patch.get("options"), JobOptions(**self.options)).to_dict(),
        )
