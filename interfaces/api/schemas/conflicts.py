"""The conflict check on the wire (docs/api.md, "Conflict check"): its request, decoded strictly
at the edge, and its answer, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from domain.conflicts import CONCURRENCY_LIMIT, MAX_DURATION_SECONDS, SHARED_TARGET, TIME_OVERLAP
from interfaces.api.schemas.configuration import Instant
from projections.conflict_queries import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_STEP_MINUTES,
    DEFAULT_WINDOW_MINUTES,
    MAX_HORIZON_DAYS,
    MAX_STEP_MINUTES,
    MAX_WINDOW_MINUTES,
)

Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class CheckConflictsRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    job_id: Annotated[Text, msgspec.Meta(description="An existing job (its schedule unless `schedule` is"
                                         " given, and it is left out of the others), or a new job's id")] | None = None
    gateway_id: Text | None = None
    schedule: Annotated[dict[str, Any], msgspec.Meta(
        description="The candidate's schedule: its `type` beside that type's parameters",
        examples=[{"type": "daily", "time": "02:00"}],
    )] | None = None
    action: Annotated[dict[str, Any], msgspec.Meta(
        description="A new job's action, for shared_target (an existing job's own action otherwise)",
    )] | None = None
    estimated_duration_seconds: Annotated[float, msgspec.Meta(gt=0, le=MAX_DURATION_SECONDS)] | None = None
    start: Annotated[Instant, msgspec.Meta(description="Where the horizon starts (default now)")] | None = None
    horizon_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_HORIZON_DAYS)] = DEFAULT_HORIZON_DAYS
    window_minutes: Annotated[int, msgspec.Meta(
        ge=0, le=MAX_WINDOW_MINUTES, description="Recommendations: moves searched up to this far either side",
    )] = DEFAULT_WINDOW_MINUTES
    step_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_STEP_MINUTES)] = DEFAULT_STEP_MINUTES


class ConflictEntry(msgspec.Struct):
    job_id: str
    job_name: str
    conflict_type: Literal[TIME_OVERLAP, SHARED_TARGET, CONCURRENCY_LIMIT]  # type: ignore[valid-type]
    conflict_period: Annotated[str, msgspec.Meta(description="The first collision, local HH:MM-HH:MM of the"
                                                 " candidate's schedule's time zone")]
    severity: Literal["low", "medium", "high"]
    occurrences: Annotated[Count, msgspec.Meta(description="How many of the candidate's runs collide")]
    first_conflict_at: Instant
    shared_targets: list[str]


class RecommendationDetail(msgspec.Struct):
    start: str
    shift_minutes: int
    schedule: Annotated[dict[str, Any], msgspec.Meta(description="The moved schedule: `type` and parameters")]
    removes_all_conflicts: bool
    conflicts_before: Count
    conflicts_after: Count
    colliding_occurrences_before: Count
    colliding_occurrences_after: Count
    peak_concurrency_before: Count
    peak_concurrency_after: Count


class ConflictAnalysis(msgspec.Struct):
    horizon_start: Instant
    horizon_end: Instant
    timezone: str
    candidate_schedule: dict[str, Any]
    candidate_occurrences: Count
    candidate_duration_seconds: float
    duration_source: Literal["history_p95", "estimate", "default"]
    max_concurrent_jobs: Count
    peak_concurrency: Count
    colliding_occurrences: Count
    jobs_checked: Count
    window_minutes: Count
    step_minutes: Count
    searched_window_minutes: Annotated[Count, msgspec.Meta(
        description="How far the moves weighed reached (less than window_minutes when the candidate fires often)",
    )]


class ConflictCheckData(msgspec.Struct):
    has_conflicts: bool
    conflicts: list[ConflictEntry]
    recommendations: list[str]
    recommendation_details: list[RecommendationDetail]
    analysis: ConflictAnalysis
