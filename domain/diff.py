"""What changed between two configurations of a job: field by field, before and after."""

from __future__ import annotations

from typing import Any

from domain.job_config import JobConfig

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
