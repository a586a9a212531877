"""What to do with the fire instants a job missed while no dispatcher ran (misfire policy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.options import JobOptions
from domain.schedules import Schedule

SCAN_LIMIT = 10_000  # instants examined at most; beyond, the rest are counted as "more"


@dataclass(frozen=True)
class MisfirePlan:
    missed: list[datetime] = field(default_factory=list)  # recorded as missed executions
    run: list[datetime] = field(default_factory=list)  # fired now, late, with trigger "misfire"
    resume_after: datetime | None = None  # regular fires continue strictly after this instant
    reason: str = ""


NOT_RUNNING = "before this takeover: no dispatcher led the gateway, or the one that led stopped first"


def misfire_plan(
    schedule: Schedule, options: JobOptions, after: datetime, cutoff: datetime, cause: str = NOT_RUNNING
) -> MisfirePlan:
    """Instants in (after, cutoff] were missed (`cause` says why, in the reason). `skip` records them missed; `run_once` runs the
    latest once; `run_all` runs each, oldest first, up to `misfire_cap`. At most `misfire_cap`
    missed instants are recorded (the most recent ones); the reason counts the rest."""
    instants: list[datetime] = []
    t = schedule.next_after(after)
    while t is not None and t <= cutoff and len(instants) < SCAN_LIMIT:
        instants.append(t)
        t = schedule.next_after(t)
    if not instants:
        return MisfirePlan(resume_after=after)
    more = t is not None and t <= cutoff
    resume = cutoff if more else instants[-1]
    cap = options.misfire_cap
    if options.misfire_policy == "run_all":
        run, missed = instants[-cap:], instants[:-cap]
    elif options.misfire_policy == "run_once":
        run, missed = instants[-1:], instants[:-1]
    else:
        run, missed = [], instants
    uncounted = len(missed) - cap + (1 if more else 0)
    reason = f"missed {cause} (misfire_policy={options.misfire_policy})"
    if uncounted > 0:
        reason += f"; {len(missed) - cap}{'+' if more else ''} earlier instants not recorded"
    return MisfirePlan(missed=missed[-cap:], run=run, resume_after=resume, reason=reason)
