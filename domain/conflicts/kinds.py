"""The conflict vocabulary: the three conflict types, the severity rule, and what an action acts on."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

DEFAULT_DURATION_SECONDS = 60
MAX_DURATION_SECONDS = 7 * 24 * 3600
TIME_OVERLAP, SHARED_TARGET, CONCURRENCY_LIMIT = "time_overlap", "shared_target", "concurrency_limit"
TYPE_ORDER = {CONCURRENCY_LIMIT: 0, SHARED_TARGET: 1, TIME_OVERLAP: 2}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def targets_of(action: Mapping[str, Any]) -> frozenset[str]:
    """What an action acts on, for `shared_target`: "mqtt:<topic>" or "file:<normalised path>"."""
    if action.get("type") == "publish" and action.get("topic"):
        return frozenset({f"mqtt:{action['topic']}"})
    if action.get("type") == "file":
        paths = [action.get("pattern"), action.get("destination")]
        return frozenset(f"file:{posixpath.normpath(str(p).replace(chr(92), '/'))}" for p in paths if p)
    return frozenset()


def severity(conflict_type: str, occurrences: int, candidate_runs: int) -> str:
    """The documented rule (docs/api.md)."""
    if conflict_type in (SHARED_TARGET, CONCURRENCY_LIMIT):
        return "high"
    return "medium" if 2 * occurrences >= candidate_runs else "low"
