"""The conflict check over the read models: a candidate (an existing job, or a schedule) against
every enabled job of its gateway, each with the duration its runs really take (p95 of its recent
execution history, else the candidate's estimate, else a default), over a horizon; the other jobs'
runs are gathered (and kept between checks) by projections/conflict_plan.py; the pure sweep and
the recommendations are domain/conflicts'."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from domain import conflicts as c
from domain.errors import JobNotFound, ValidationFailed
from domain.execution import COMPLETED
from domain.job_config import JobConfig
from domain.schedules import Location, Schedule, parse_schedule
from domain.schedules.localtime import zone
from domain.schedules.shift import shifted, start_label
from projections import conflict_plan as plan
from projections.read_store import ReadStore

DEFAULT_HORIZON_DAYS, MAX_HORIZON_DAYS = 7, 31
DEFAULT_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 120, 720
DEFAULT_STEP_MINUTES, MAX_STEP_MINUTES = 5, 60
MAX_OPTIONS = 288  # moves weighed: window / step on each side
HISTORY_RUNS = 100  # the p95 is over a job's last 100 finished runs
MAX_CANDIDATE_RUNS = 20_000
MAX_SEARCHED_RUNS = 2_000  # recommendations are searched for candidates with at most this many runs
OPTION_BUDGET = 40_000  # moved runs computed one by one for the recommendations (nearest moves first)


@dataclass(frozen=True)
class CheckRequest:
    """The candidate: `job_id` of an existing job (its schedule unless `schedule` is given, which
    must then hold its `type`), or a new job's `schedule` (and optionally its action)."""

    job_id: str | None = None
    schedule: Mapping[str, Any] | None = None
    action: Mapping[str, Any] | None = None
    estimated_duration_seconds: float | None = None
    start: datetime | None = None
    horizon_days: int = DEFAULT_HORIZON_DAYS
    window_minutes: int = DEFAULT_WINDOW_MINUTES
    step_minutes: int = DEFAULT_STEP_MINUTES


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"field": field, "reason": message})


def _check_limits(request: CheckRequest) -> None:
    if not 1 <= request.horizon_days <= MAX_HORIZON_DAYS:
        raise _bad("horizon_days", f"horizon_days must be from 1 to {MAX_HORIZON_DAYS}")
    if not 0 <= request.window_minutes <= MAX_WINDOW_MINUTES:
        raise _bad("window_minutes", f"window_minutes must be from 0 to {MAX_WINDOW_MINUTES}")
    if not 1 <= request.step_minutes <= MAX_STEP_MINUTES:
        raise _bad("step_minutes", f"step_minutes must be from 1 to {MAX_STEP_MINUTES}")
    if 2 * (request.window_minutes // request.step_minutes) > MAX_OPTIONS:
        raise _bad("step_minutes", f"window_minutes / step_minutes must be at most {MAX_OPTIONS // 2}")
    duration = request.estimated_duration_seconds
    if duration is not None and not 0 < duration <= c.MAX_DURATION_SECONDS:
        raise _bad("estimated_duration_seconds",
                   f"estimated_duration_seconds must be above 0 and at most {c.MAX_DURATION_SECONDS}")


@lru_cache(maxsize=8192)
def _parsed(kind: str, params: str, anchor: datetime, location: Location | None) -> Schedule:
    """A stored job's schedule, parsed once per distinct configuration (schedules are immutable)."""
    return parse_schedule(kind, json.loads(params), anchor=anchor, default_location=location, stored=True)


def _stored_schedule(row: Mapping[str, Any], location: Location | None) -> Schedule:
    return _parsed(row["type"], row["schedule_text"], row["schedule_anchor"], location)


def _location(store: ReadStore, gateway_id: str) -> Location | None:
    row = store.one("SELECT latitude, longitude FROM gateways WHERE gateway_id = %(g)s", {"g": gateway_id})
    if row is None or row["latitude"] is None or row["longitude"] is None:
        return None
    return (row["latitude"], row["longitude"])


def _p95_ms(store: ReadStore, gateway_id: str) -> dict[str, int]:
    rows = store.all(
        "SELECT job_id, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95 FROM ("
        " SELECT job_id, duration_ms, row_number() OVER (PARTITION BY job_id ORDER BY start_time DESC) AS n"
        " FROM executions WHERE gateway_id = %(g)s AND status = ANY(%(completed)s::text[])"
        " AND duration_ms IS NOT NULL) recent WHERE n <= %(runs)s GROUP BY job_id",
        {"g": gateway_id, "completed": list(COMPLETED), "runs": HISTORY_RUNS},
    )
    return {r["job_id"]: max(1, round(r["p95"])) for r in rows if r["p95"] is not None}


def _jobs(store: ReadStore, gateway_id: str) -> list[dict[str, Any]]:
    """Each job's schedule as jsonb's canonical text (the parse cache's key: decoded only when not
    cached) and of its action only what it acts on."""
    return store.all(
        "SELECT job_id, name, type, enabled, schedule::text AS schedule_text, schedule_anchor,"
        " action->>'type' AS action_type, action->>'topic' AS topic, action->>'pattern' AS pattern,"
        " action->>'destination' AS destination FROM jobs WHERE gateway_id = %(g)s ORDER BY job_id",
        {"g": gateway_id},
    )


def _action(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": row["action_type"], "topic": row["topic"], "pattern": row["pattern"],
            "destination": row["destination"]}


def candidate_schedule(raw: Mapping[str, Any], *, anchor: datetime, location: Location | None) -> Schedule:
    """A request's `schedule`: its `type` beside the type's parameters."""
    if not isinstance(raw, Mapping):
        raise _bad("schedule", "schedule must be an object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise _bad("schedule.type", "schedule.type is required (one of the schedule types)")
    return parse_schedule(kind, {k: v for k, v in raw.items() if k != "type"}, anchor=anchor,
                          default_location=location)


def _zone_name(schedule: Schedule) -> str:
    return getattr(schedule, "timezone", "UTC")


def _wall(ms: int, zone_name: str) -> str:
    local = c.instant_of(ms).astimezone(zone(zone_name))
    return local.strftime("%H:%M:%S" if local.second else "%H:%M")


def _period(conflict: c.Conflict, zone_name: str) -> str:
    return f"{_wall(conflict.first_start, zone_name)}-{_wall(conflict.first_end, zone_name)}"


def check(store: ReadStore, gateway_id: str, request: CheckRequest, *, now: datetime, max_concurrent: int,
          candidate: Schedule | None = None) -> dict[str, Any]:
    """The report (docs/api.md, "Conflict check"). `candidate`: a schedule already built (a create
    or an update checking itself), else the request's."""
    _check_limits(request)
    start = request.start or now
    end = start + timedelta(days=request.horizon_days)
    location = _location(store, gateway_id)
    rows = _jobs(store, gateway_id)
    history = _p95_ms(store, gateway_id)
    own = next((r for r in rows if r["job_id"] == request.job_id), None) if request.job_id else None
    if candidate is None:
        if request.schedule is not None:
            candidate = candidate_schedule(request.schedule, anchor=now, location=location)
        elif own is not None:
            candidate = _stored_schedule(own, location)
        elif request.job_id is not None:
            raise JobNotFound(f"Job {request.job_id} not found", {"job_id": request.job_id})
        else:
            raise _bad("job_id", "give job_id of an existing job, or a schedule")
    action = request.action if request.action is not None else (_action(own) if own is not None else {})
    targets = c.targets_of(action) if isinstance(action, Mapping) else frozenset()
    if own is not None and request.job_id in history:
        duration_ms, source = history[request.job_id], "history_p95"
    elif request.estimated_duration_seconds is not None:
        duration_ms, source = max(1, round(request.estimated_duration_seconds * 1000)), "estimate"
    else:
        duration_ms, source = c.DEFAULT_DURATION_SECONDS * 1000, "default"

    runs = c.expand(candidate, start, end, MAX_CANDIDATE_RUNS)  # an arithmetic expansion is not cut short
    if runs.size > MAX_CANDIDATE_RUNS:
        raise _bad("horizon_days", f"the candidate fires more than {MAX_CANDIDATE_RUNS} times in the horizon:"
                                   " shorten horizon_days")
    options = _options(candidate, request, start, end) if runs.size <= MAX_SEARCHED_RUNS else []
    searched = max((abs(o.shift_minutes) for o in options), default=0)
    others_rows = [r for r in rows if r["enabled"] and r["job_id"] != request.job_id]
    others = [plan.Other(r["job_id"], r["name"], _stored_schedule(r, location),
                         history.get(r["job_id"], c.DEFAULT_DURATION_SECONDS * 1000), c.targets_of(_action(r)))
              for r in others_rows]
    longest = max((o.duration_ms for o in others), default=0)
    windows = c.windows_around([runs, *(o.starts for o in options)], longest, duration_ms)
    sweep = plan.sweep_of(others, windows, max_concurrent, c.epoch_ms(start))
    base = sweep.assess(runs, duration_ms, targets)
    recommendations = c.recommend(sweep, base, options, duration_ms, targets)
    zone_name = _zone_name(candidate)
    return {
        "has_conflicts": bool(base.conflicts),
        "conflicts": [_conflict_answer(x, zone_name) for x in base.conflicts],
        "recommendations": _texts(base, recommendations, request, runs.size, bool(options), searched),
        "recommendation_details": [_recommendation_answer(r) for r in recommendations],
        "analysis": {
            "horizon_start": start, "horizon_end": end, "timezone": zone_name,
            "candidate_schedule": {"type": candidate.type, **candidate.to_dict()},
            "candidate_occurrences": base.candidate_runs, "candidate_duration_seconds": duration_ms / 1000,
            "duration_source": source, "max_concurrent_jobs": max_concurrent,
            "peak_concurrency": base.peak_concurrency, "colliding_occurrences": base.colliding_runs,
            "jobs_checked": len(others_rows), "window_minutes": request.window_minutes,
            "step_minutes": request.step_minutes, "searched_window_minutes": searched,
        },
    }


def _options(candidate: Schedule, request: CheckRequest, start: datetime, end: datetime) -> list[c.Option]:
    """The moves to weigh, nearest first, as long as the fires they compute one by one stay
    within OPTION_BUDGET (arithmetic expansions cost none of it)."""
    out, spent = [], 0
    for minutes in c.shifts(request.window_minutes, request.step_minutes)[1:]:
        moved = shifted(candidate, minutes)
        if moved is None:
            continue
        starts, stepped = c.expand_counting(moved, start, end, OPTION_BUDGET - spent)
        spent += stepped
        if spent > OPTION_BUDGET:
            break
        out.append(c.Option(minutes, moved, starts))
    return out


def _conflict_answer(conflict: c.Conflict, zone_name: str) -> dict[str, Any]:
    return {
        "job_id": conflict.job_id, "job_name": conflict.job_name, "conflict_type": conflict.conflict_type,
        "conflict_period": _period(conflict, zone_name), "severity": conflict.severity,
        "occurrences": conflict.occurrences, "first_conflict_at": c.instant_of(conflict.first_start),
        "shared_targets": list(conflict.shared_targets),
    }


def _recommendation_answer(r: c.Recommendation) -> dict[str, Any]:
    return {
        "start": start_label(r.schedule), "shift_minutes": r.shift_minutes,
        "schedule": {"type": r.schedule.type, **r.schedule.to_dict()}, "removes_all_conflicts": r.removes_all,
        "conflicts_before": r.before.conflict_count, "conflicts_after": r.after.conflict_count,
        "colliding_occurrences_before": r.before.colliding_runs, "colliding_occurrences_after": r.after.colliding_runs,
        "peak_concurrency_before": r.before.peak_concurrency, "peak_concurrency_after": r.after.peak_concurrency,
    }


def _texts(base: c.Assessment, found: list[c.Recommendation], request: CheckRequest, runs: int,
           movable: bool, searched: int) -> list[str]:
    if not base.conflicts:
        return []
    if runs > MAX_SEARCHED_RUNS:
        return [f"The candidate fires {runs} times in the horizon: alternatives are searched for at most"
                f" {MAX_SEARCHED_RUNS} runs; shorten horizon_days to get recommendations"]
    if not movable:
        return ["This schedule cannot be moved by whole minutes (only plain minute/hour cron expressions and"
                " moves within the same day for weekly, monthly or weekday-only schedules can)"]
    if not found:
        return [f"No start within {searched} minutes either side (in {request.step_minutes}-minute"
                " steps) reduces the conflicts"]
    texts = []
    for r in found:
        label = start_label(r.schedule)
        if r.removes_all:
            texts.append(f"Schedule at {label} to avoid conflict")
        elif r.after.conflict_count <= r.before.conflict_count:
            texts.append(f"Schedule at {label} to reduce conflicts from {r.before.conflict_count} to"
                         f" {r.after.conflict_count} (peak concurrency {r.before.peak_concurrency} ->"
                         f" {r.after.peak_concurrency})")
        else:  # fewer high-severity conflicts weigh more than more low ones (docs/api.md, the ranking)
            texts.append(f"Schedule at {label} to reduce high-severity conflicts from {r.before.high_count} to"
                         f" {r.after.high_count} (all conflicts {r.before.conflict_count} ->"
                         f" {r.after.conflict_count}, peak concurrency {r.before.peak_concurrency} ->"
                         f" {r.after.peak_concurrency})")
    return texts



def updated_candidate(store: ReadStore, gateway_id: str, job_id: str, patch: Mapping[str, Any], *,
                      now: datetime) -> tuple[Schedule, Mapping[str, Any]] | None:
    """The schedule and action a job would have after `patch` (an update's fields), read from the
    job list read model; None when the job would be disabled (it would not run)."""
    row = None if "\x00" in job_id else store.one(
        "SELECT name, description, type, enabled, schedule, schedule_anchor, action, tags, options FROM jobs"
        " WHERE gateway_id = %(g)s AND job_id = %(j)s", {"g": gateway_id, "j": job_id},
    )
    if row is None:
        raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
    enabled = patch.get("enabled")
    if not (row["enabled"] if enabled is None else enabled):
        return None
    current = JobConfig(
        name=row["name"], description=row["description"], schedule_type=row["type"], schedule=row["schedule"],
        schedule_anchor=row["schedule_anchor"], action=row["action"], tags=list(row["tags"]), options=row["options"],
    )
    location = _location(store, gateway_id)
    config = current.patched(patch, now=now, default_location=location)
    return config.build_schedule(location), config.action
