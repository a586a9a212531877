"""Reading and checking the raw parameters of a schedule, field by field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any

from domain.errors import ValidationFailed

from .localtime import supported_instant, utc_instant

_IGNORED = frozenset({"type", "next_execution"})
_TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d))?")
_MISSING: Any = object()


def refuse(field: str, message: str, reason: str) -> ValidationFailed:
    return ValidationFailed(message, {"field": f"schedule.{field}", "reason": reason})


class Params:
    """The params of one schedule: unknown keys are refused up front, each read checks its type."""

    def __init__(self, raw: Mapping[str, Any], allowed: Iterable[str], *, stored: bool = False) -> None:
        """`stored`: params read back from the log, validated when recorded; instants are not
        held to today's supported range again (a job recorded before it must still load)."""
        if not isinstance(raw, Mapping):
            raise ValidationFailed(
                "Schedule parameters must be an object", {"field": "schedule", "reason": "not a mapping"}
            )
        allowed = set(allowed)
        for key in raw:
            if key not in allowed and key not in _IGNORED:
                raise refuse(str(key), f"Unknown schedule parameter: {key!r}", "unknown parameter")
        self._raw = raw
        self._stored = stored

    def _get(self, name: str, default: Any) -> Any:
        value = self._raw.get(name)
        if value is None:
            if default is _MISSING:
                raise refuse(name, f"{name} is required", "missing")
            return default
        return value

    def integer(self, name: str, lo: int, hi: int, default: Any = _MISSING) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse(name, f"{name} must be an integer", f"expected integer, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise refuse(name, f"{name} must be between {lo} and {hi}", f"{value} out of range {lo}..{hi}")
        return value

    def number(self, name: str, lo: float, hi: float, default: Any = _MISSING) -> int | float:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise refuse(name, f"{name} must be a number", f"expected number, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise refuse(name, f"{name} must be between {lo} and {hi}", f"{value} out of range {lo}..{hi}")
        return int(value) if float(value).is_integer() else float(value)

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise refuse(name, f"{name} must be true or false", f"expected boolean, got {type(value).__name__}")
        return value

    def text(self, name: str, default: Any = _MISSING) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise refuse(name, f"{name} must be a string", f"expected string, got {type(value).__name__}")
        return value

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        return self._get(name, default)

    def time_of_day(self, name: str = "time") -> time:
        value = self.text(name)
        match = _TIME.fullmatch(value)
        if match is None:
            raise refuse(name, f"{name} must be HH:MM or HH:MM:SS", f"{value!r} is not HH:MM[:SS]")
        hour, minute, second = (int(g or 0) for g in match.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise refuse(name, f"{name} is not a valid time of day", f"{value!r} out of range")
        return time(hour, minute, second)

    def instant(self, name: str, default: Any = _MISSING) -> datetime | None:
        value = self._get(name, default)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise refuse(name, f"{name} must be an ISO-8601 instant", f"{value!r} is not ISO-8601") from None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise refuse(name, f"{name} must be an ISO-8601 instant with Z or an offset", "naive or not an instant")
        if self._stored:
            return utc_instant(value, f"schedule.{name}")
        return supported_instant(value, f"schedule.{name}")


def time_text(value: time) -> str:
    """Canonical "HH:MM" (or "HH:MM:SS" when seconds are set)."""
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def instant_text(value: datetime) -> str:
    """Canonical UTC "...Z" text of an instant."""
    return utc_instant(value).isoformat().replace("+00:00", "Z")
