"""Conflict detection: a pure sweep over the predicted runs of a candidate job and of a gateway's
other jobs, and the start times that remove or reduce the conflicts it finds.

A run is the half-open span [start, start + duration) in epoch milliseconds. Against each other
job the candidate has (docs/api.md, "Conflict check"):
- `time_overlap`: some of its runs overlap that job's runs;
- `shared_target`: they overlap while acting on the same MQTT topic or file path (it replaces the
  plain overlap for that job);
- `concurrency_limit`: while it overlaps that job's runs, the gateway would run more than
  `max_concurrent_jobs` runs at once (the candidate's run counted).
Severity: `shared_target` and `concurrency_limit` are "high"; `time_overlap` is "medium" when at
least half of the candidate's runs in the horizon collide with that job, else "low".

The sweep is vectorised (numpy): every other job's run starts sit in one sorted array keyed by
(job, start), so whether a job's runs overlap a candidate run is one binary search per (job,
candidate run); the gateway's concurrency is a running sum over all runs' start and end events,
and its peak inside each candidate run the maximum of that sum over the events inside it.

Modules: `kinds` (the vocabulary and the severity rule), `runs` (a schedule's fires as arrays),
`sweep` (the assessment), `moves` (recommendations); everything is re-exported here.
"""

from .kinds import (
    CONCURRENCY_LIMIT,
    DEFAULT_DURATION_SECONDS,
    MAX_DURATION_SECONDS,
    SHARED_TARGET,
    TIME_OVERLAP,
    severity,
    targets_of,
)
from .moves import Option, Recommendation, recommend, shifts
from .runs import (
    EPOCH,
    epoch_ms,
    expand,
    expand_counting,
    expand_within,
    instant_of,
    windows_around,
)
from .sweep import Assessment, Conflict, PlannedJob, Sweep

__all__ = [
    "CONCURRENCY_LIMIT", "DEFAULT_DURATION_SECONDS", "EPOCH", "MAX_DURATION_SECONDS", "SHARED_TARGET",
    "TIME_OVERLAP", "Assessment", "Conflict", "Option", "PlannedJob", "Recommendation", "Sweep", "epoch_ms",
    "expand", "expand_counting", "expand_within", "instant_of", "recommend", "severity", "shifts", "targets_of",
    "windows_around",
]
