"""Per-job execution options: misfire, overlap, timeout and retry policies, with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from domain.errors import ValidationFailed

MISFIRE_POLICIES = ("skip", "run_once", "run_all")
OVERLAP_POLICIES = ("skip", "allow", "queue")


@dataclass(frozen=True)
class JobOptions:
    misfire_policy: str = "run_once"
    misfire_cap: int = 10
    overlap_policy: str = "skip"
    timeout_seconds: float = 300.0
    max_attempts: int = 1
    backoff_seconds: float = 5.0
    backoff_multiplier: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        """Its fields by name. Every value is a str, int or float: nothing to copy deeply, as
        `dataclasses.asdict` does per field (twice in each create; docs/decisions.md 325)."""
        return {name: getattr(self, name) for name in _FIELDS}

    def backoff_for(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (2 is the first retry)."""
        return self.backoff_seconds * self.backoff_multiplier ** max(0, attempt - 2)


_FIELDS = tuple(f.name for f in fields(JobOptions))


def _bad(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid option {field}: {reason}", {"field": f"options.{field}", "reason": reason})


def _number(raw: Mapping[str, Any], key: str, default: float, low: float, high: float, *, integer: bool) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise _bad(key, "must be an integer" if integer else "must be a number")
    if not low <= value <= high:
        raise _bad(key, f"must be between {low:g} and {high:g}")
    return value


def parse_options(raw: Mapping[str, Any] | None, base: JobOptions | None = None) -> JobOptions:
    """Validate options; keys not given keep the value of `base` (or the defaults)."""
    current = (base or JobOptions()).to_dict()
    if raw is None:
        return JobOptions(**current)
    if not isinstance(raw, Mapping):
        raise _bad("options", "must be an object")
    unknown = sorted(set(raw) - set(current))
    if unknown:
        raise _bad(unknown[0], "unknown option")
    merged = {**current, **raw}
    for key, choices in (("misfire_policy", MISFIRE_POLICIES), ("overlap_policy", OVERLAP_POLICIES)):
        if merged[key] not in choices:
            raise _bad(key, f"must be one of {', '.join(choices)}")
    return JobOptions(
        misfire_policy=merged["misfire_policy"],
        misfire_cap=_number(merged, "misfire_cap", 10, 1, 1000, integer=True),
        overlap_policy=merged["overlap_policy"],
        timeout_seconds=float(_number(merged, "timeout_seconds", 300, 0.1, 86400, integer=False)),
        max_attempts=_number(merged, "max_attempts", 1, 1, 10, integer=True),
        backoff_seconds=float(_number(merged, "backoff_seconds", 5, 0, 3600, integer=False)),
        backoff_multiplier=float(_number(merged, "backoff_multiplier", 2, 1, 10, integer=False)),
    )
