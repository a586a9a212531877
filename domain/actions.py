"""Action value objects (publish, system, file): parsing, validation, canonical form and PUT merging."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.errors import ActionNotSupported, ValidationFailed

ACTION_TYPES: dict[str, dict] = {
    "publish": {
        "description": "Publish data to MQTT topic",
        "parameters": ["topic", "payload_template", "qos", "retain"],
    },
    "system": {
        "description": "Execute system operations",
        "parameters": ["operation", "parameters"],
    },
    "file": {
        "description": "Perform file operations",
        "parameters": ["operation", "pattern", "retain_days", "destination"],
    },
}
SYSTEM_OPERATIONS: tuple[str, ...] = ("health_check",)
FILE_OPERATIONS: tuple[str, ...] = ("cleanup", "archive")

MAX_TOPIC_LENGTH = 256
MAX_PAYLOAD_TEMPLATE_BYTES = 64 * 1024
MAX_PATH_LENGTH = 1024
MAX_RETAIN_DAYS = 36500
MAX_SYSTEM_PARAMETERS_BYTES = 16 * 1024
DEFAULT_RETAIN_DAYS = 7
DEFAULT_ARCHIVE_DESTINATION = "archive"


class Action(Protocol):
    """What every action offers: its type and its canonical, JSON-able form."""

    type: str

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PublishAction:
    topic: str
    payload_template: str = ""
    qos: int = 0
    retain: bool = False
    type: str = field(default="publish", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "topic": self.topic, "payload_template": self.payload_template,
                "qos": self.qos, "retain": self.retain}


@dataclass(frozen=True)
class SystemAction:
    operation: str
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)
    type: str = field(default="system", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "operation": self.operation,
                "parameters": json.loads(json.dumps(self.parameters))}


@dataclass(frozen=True)
class FileAction:
    operation: str
    pattern: str
    retain_days: int = DEFAULT_RETAIN_DAYS
    destination: str | None = None  # archive only
    type: str = field(default="file", init=False)

    def to_dict(self) -> dict[str, Any]:
        result = {"type": self.type, "operation": self.operation, "pattern": self.pattern,
                  "retain_days": self.retain_days}
        if self.destination is not None:
            result["destination"] = self.destination
        return result


def parse_action(params: Mapping[str, Any]) -> Action:
    """Build an action from its wire form (which names its "type"); None counts as absent."""
    if not isinstance(params, Mapping):
        raise _invalid("action", "must be an object")
    action_type = params.get("type")
    if action_type is None:
        raise _invalid("action.type", "is required")
    if not isinstance(action_type, str):
        raise _invalid("action.type", "must be a string")
    if action_type not in ACTION_TYPES:
        raise ActionNotSupported(
            f"action type {action_type!r} is not supported",
            {"field": "action.type", "reason": f"supported types: {', '.join(ACTION_TYPES)}"},
        )
    allowed = set(ACTION_TYPES[action_type]["parameters"]) | {"type"}
    for key in params:
        if key not in allowed:
            raise _invalid(f"action.{key}", f"unknown field for a {action_type} action")
    values = {key: value for key, value in params.items() if value is not None and key != "type"}
    return _PARSERS[action_type](values)


def merge_action(current: Action, patch: Mapping[str, Any]) -> Action:
    """Apply a PUT patch: same type updates the given fields (None resets one), another type replaces."""
    if not isinstance(patch, Mapping):
        raise _invalid("action", "must be an object")
    patch_type = patch.get("type")
    if patch_type is not None and patch_type != current.type:
        return parse_action(patch)
    merged = current.to_dict()
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if merged.get("operation") == "cleanup" and "destination" not in patch:
        # switching an archive to a cleanup drops the archive-only field it carried
        merged.pop("destination", None)
    merged["type"] = current.type
    return parse_action(merged)


def _parse_publish(values: dict[str, Any]) -> PublishAction:
    topic = _required_str(values, "topic")
    if len(topic) > MAX_TOPIC_LENGTH:
        raise _invalid("action.topic", f"must be at most {MAX_TOPIC_LENGTH} characters")
    if "+" in topic or "#" in topic:
        raise _invalid("action.topic", "must not contain the wildcards + or #")
    if "\x00" in topic:
        raise _invalid("action.topic", "must not contain NUL")
    if topic.startswith("$"):
        raise _invalid("action.topic", "must not start with $ (reserved for the broker)")
    template = _optional_str(values, "payload_template", "")
    if len(template.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_TEMPLATE_BYTES:
        raise _invalid("action.payload_template", f"must be at most {MAX_PAYLOAD_TEMPLATE_BYTES} bytes")
    qos = values.get("qos", 0)
    if type(qos) is not int or qos not in (0, 1, 2):
        raise _invalid("action.qos", "must be the integer 0, 1 or 2")
    retain = values.get("retain", False)
    if not isinstance(retain, bool):
        raise _invalid("action.retain", "must be a boolean")
    return PublishAction(topic=topic, payload_template=template, qos=qos, retain=retain)


def _parse_system(values: dict[str, Any]) -> SystemAction:
    operation = _required_str(values, "operation")
    if operation not in SYSTEM_OPERATIONS:
        raise ActionNotSupported(
            f"system operation {operation!r} is not supported",
            {"field": "action.operation", "reason": f"supported operations: {', '.join(SYSTEM_OPERATIONS)}"},
        )
    parameters = values.get("parameters", {})
    if not isinstance(parameters, Mapping) or not all(isinstance(key, str) for key in parameters):
        raise _invalid("action.parameters", "must be an object with string keys")
    try:
        encoded = json.dumps(dict(parameters), allow_nan=False)
    except (TypeError, ValueError):
        raise _invalid("action.parameters", "must hold JSON values only") from None
    if len(encoded) > MAX_SYSTEM_PARAMETERS_BYTES:
        raise _invalid("action.parameters", f"must be at most {MAX_SYSTEM_PARAMETERS_BYTES} bytes as JSON")
    return SystemAction(operation=operation, parameters=json.loads(encoded))


def _parse_file(values: dict[str, Any]) -> FileAction:
    operation = _required_str(values, "operation")
    if operation not in FILE_OPERATIONS:
        raise ActionNotSupported(
            f"file operation {operation!r} is not supported",
            {"field": "action.operation", "reason": f"supported operations: {', '.join(FILE_OPERATIONS)}"},
        )
    pattern = _required_str(values, "pattern")
    check_relative_path(pattern, "action.pattern")
    retain_days = values.get("retain_days", DEFAULT_RETAIN_DAYS)
    if type(retain_days) is not int or not 0 <= retain_days <= MAX_RETAIN_DAYS:
        raise _invalid("action.retain_days", f"must be an integer from 0 to {MAX_RETAIN_DAYS}")
    destination = None
    if operation == "archive":
        destination = _optional_str(values, "destination", DEFAULT_ARCHIVE_DESTINATION)
        check_relative_path(destination, "action.destination")
        if any(char in destination for char in "*?[]"):
            raise _invalid("action.destination", "must be a directory name, not a glob")
        if all(part in ("", ".") for part in destination.replace("\\", "/").split("/")):
            raise _invalid("action.destination", "must name a directory below the file root")
    elif "destination" in values:
        raise _invalid("action.destination", "is only valid for the archive operation")
    return FileAction(operation=operation, pattern=pattern, retain_days=retain_days, destination=destination)


def check_relative_path(path: str, field_name: str) -> None:
    """Refuse a path or glob that could leave the file root: absolute, drive-qualified or with `..`."""
    if not path:
        raise _invalid(field_name, "must not be empty")
    if len(path) > MAX_PATH_LENGTH:
        raise _invalid(field_name, f"must be at most {MAX_PATH_LENGTH} characters")
    if "\x00" in path:
        raise _invalid(field_name, "must not contain NUL")
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[0].isalpha() and path[1] == ":"):
        raise _invalid(field_name, "must be relative to the file root")
    if ".." in path.replace("\\", "/").split("/"):
        raise _invalid(field_name, "must not contain a '..' segment")


def _required_str(values: Mapping[str, Any], key: str) -> str:
    if key not in values:
        raise _invalid(f"action.{key}", "is required")
    value = values[key]
    if not isinstance(value, str):
        raise _invalid(f"action.{key}", "must be a string")
    if not value.strip():
        raise _invalid(f"action.{key}", "must not be empty")
    return value


def _optional_str(values: Mapping[str, Any], key: str, default: str) -> str:
    value = values.get(key, default)
    if not isinstance(value, str):
        raise _invalid(f"action.{key}", "must be a string")
    return value


def _invalid(field_name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"{field_name} {reason}", {"field": field_name, "reason": reason})


_PARSERS = {"publish": _parse_publish, "system": _parse_system, "file": _parse_file}
