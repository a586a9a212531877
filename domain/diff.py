"""The difference between two configurations of a job. Pure: plain JSON-like values in, plain
values out. `diff` (the audit's changes): nested objects (schedule, action, options) compared field
by field under dotted names (`schedule.interval_seconds`), lists and scalars whole. `changes` (an
import plan's): per setting a create names, whole values before and after."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.job_config import JobConfig

Change = dict[str, Any]  # {"field": str, "before": Any, "after": Any}
_ABSENT = object()
# The fields of a job an operator sets, as a create names them (an export holds jobs in this shape).
SETTINGS = ("name", "description", "type", "enabled", "schedule", "action", "tags", "options")


def settings(config: JobConfig, enabled: bool) -> dict[str, Any]:
    """A configuration in the shape a create accepts (without the id)."""
    return {
        "name": config.name, "description": config.description, "type": config.schedule_type, "enabled": enabled,
        "schedule": config.schedule, "action": config.action, "tags": config.tags, "options": config.options,
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each setting whose value differs, as {"before": ..., "after": ...}, in SETTINGS order."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in SETTINGS
        if before.get(name) != after.get(name)
    }


def _keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """After's keys in its order, then the keys only before had (deterministic)."""
    return [*after, *(k for k in before if k not in after)]


def _walk(prefix: str, before: Any, after: Any, out: list[Change]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in _keys(before, after):
            _walk(f"{prefix}.{key}" if prefix else str(key), before.get(key, _ABSENT), after.get(key, _ABSENT), out)
        return
    if before is _ABSENT and isinstance(after, Mapping) and prefix:
        before = None
    if before == after and type(before) is type(after):
        return
    out.append({
        "field": prefix,
        "before": None if before is _ABSENT else before,
        "after": None if after is _ABSENT else after,
    })


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any], *, ignore: Iterable[str] = ()) -> list[Change]:
    """Every field whose value differs between `before` (None: nothing existed) and `after`.
    A field absent on one side reads as None there. Top-level keys in `ignore` are left out."""
    skip = set(ignore)
    out: list[Change] = []
    old = before or {}
    for key in _keys(old, after):
        if key in skip:
            continue
        _walk(key, old.get(key, None if before is None else _ABSENT), after.get(key, _ABSENT), out)
    return out
