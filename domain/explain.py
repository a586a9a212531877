"""Why a job did or did not fire: every instant the schedule in force called for in a window,
classified against what was recorded. Pure: the versions of the job's configuration and the
executions are handed in; no I/O, no clock (`now` and the retention cutoff are arguments).

Statuses of an entry (docs/api.md, "fires"):
  fired, retried (more than one attempt), fired_late (run after downtime under misfire_policy
  run_once/run_all), missed (recorded missed: downtime under the misfire policy), skipped_overlap,
  cancelled, running, disabled (by whom, why, until when), outside_bounds (a span before start_at or
  after end_at), dst_deduplicated (the second pass of a repeated wall time, not fired),
  no_solar_event (a local day without the event), manual (a run asked for beside the schedule),
  pruned (older than execution retention: its record is gone), upcoming (after now), pending (due a
  moment ago, not yet recorded), not_recorded (due, and no dispatcher recorded it: none ran for the
  gateway since). An instant fired at the end of a DST gap for a local time the gap swallowed
  (daily/weekly/monthly time, or a fixed-hour cron match) carries `dst: {"kind": "gap", ...}`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from domain.schedules import CronSchedule, Schedule

MAX_WINDOW = timedelta(days=7)  # a longer window is refused (VALIDATION_ERROR)
MAX_ENTRIES = 20_000  # beyond, the answer is truncated and says where to go on from
PENDING = timedelta(seconds=60)  # a due instant younger than this may still be recorded
_CALENDAR = ("daily", "weekly", "monthly")
_SCHEDULED = ("scheduled", "misfire")


@dataclass(frozen=True)
class Version:
    """A configuration of the job, in force from `since` until the next version's `since`."""

    version: int
    since: datetime
    actor: str
    reason: str
    schedule: Schedule | None  # None once deleted
    schedule_type: str
    params: dict[str, Any]
    enabled: bool
    disabled_reason: str
    deleted: bool


class Run(NamedTuple):
    """An execution as recorded (a tuple: thousands are read per window)."""

    execution_id: str
    trigger: str
    status: str
    scheduled_for: datetime | None
    start_time: datetime
    attempt: int = 1
    retry_count: int = 0
    code: str = ""
    message: str = ""
    actor: str = ""


@dataclass
class Explanation:
    entries: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False


def _instant(raw: Any) -> datetime | None:
    if raw is None:
        return None
    return raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def _run_entry(instant: datetime, run: Run, version: int) -> dict[str, Any]:
    if run.status == "success" and run.trigger == "scheduled" and run.attempt == 1 and not run.retry_count:
        return {"instant": instant, "version": version, "execution_id": run.execution_id, "trigger": "scheduled",
                "status": "fired", "outcome": "success", "attempts": 1, "started_at": run.start_time}  # the common case
    entry: dict[str, Any] = {"instant": instant, "version": version, "execution_id": run.execution_id,
                             "trigger": run.trigger}
    overlap = "overlap" in run.message or "still running" in run.message
    if run.status == "missed":
        entry.update(status="skipped_overlap" if overlap else "missed", reason=run.message)
    elif run.code == "CANCELLED":
        entry.update(status="skipped_overlap" if overlap else "cancelled", reason=run.message)
    elif run.status in ("running", "retrying"):
        entry.update(status="running", attempts=run.attempt)
    else:
        attempts = max(run.attempt, run.retry_count + 1)
        if run.trigger == "misfire":
            status = "fired_late"
        else:
            status = "retried" if attempts > 1 else "fired"
        entry.update(status=status, outcome=run.status, attempts=attempts, started_at=run.start_time)
        if run.code:
            entry["code"] = run.code
        if run.message and run.status != "success":
            entry["reason"] = run.message
    return entry


def _zone(params: dict[str, Any]) -> ZoneInfo | None:
    name = params.get("timezone")
    return ZoneInfo(name) if isinstance(name, str) and name != "UTC" else None


def _wall(text: str) -> time:
    return time.fromisoformat(text if text.count(":") == 2 else text + ":00")


def _gap_note(instant: datetime, v: Version, zone: ZoneInfo | None) -> dict[str, Any] | None:
    """A fire standing in for a local time that did not exist that day (spring-forward), fired at
    the first instant after the gap: a calendar schedule's whose local time is not its configured
    time, a cron schedule's that its expression's wall-time matching placed in the gap."""
    if zone is None:
        return None
    local = instant.astimezone(zone)
    if isinstance(v.schedule, CronSchedule):
        shifted = v.schedule.gap_wall_time(instant)
        if shifted is None:
            return None
        return {"kind": "gap", "wall_time": shifted.time().isoformat(), "fired_local": local.isoformat()}
    if v.schedule_type not in _CALENDAR or "time" not in v.params:
        return None
    wanted = _wall(str(v.params["time"]))
    if local.time().replace(microsecond=0) == wanted:
        return None
    return {"kind": "gap", "wall_time": wanted.isoformat(), "fired_local": local.isoformat()}


def _fold_twin(instant: datetime, zone: ZoneInfo | None) -> datetime | None:
    """The second pass of the instant's wall time when it is repeated (fall-back) and the instant
    is the first pass; else None."""
    if zone is None:
        return None
    naive = instant.astimezone(zone).replace(tzinfo=None)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return second if first == instant and second != first else None


def _bounds_entries(v: Version, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    start, end = _instant(v.params.get("start_at")), _instant(v.params.get("end_at"))
    bounds = {"start_at": start, "end_at": end}
    out = []
    if start is not None and lo < start:
        out.append({"instant": lo, "status": "outside_bounds", "until": min(start, hi), "version": v.version,
                    "reason": "before the schedule's start_at", **bounds})
    if end is not None and end < hi:
        out.append({"instant": max(end, lo), "status": "outside_bounds", "until": hi, "version": v.version,
                    "reason": "after the schedule's end_at", **bounds})
    return out


def _solar_gaps(v: Version, instants: list[datetime], lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Local days of a sunrise schedule in [lo, hi] without an instant: no such event that day."""
    zone = ZoneInfo(str(v.params.get("timezone") or "UTC"))
    offset = timedelta(minutes=int(v.params.get("offset_minutes") or 0))
    seen = {(t - offset).astimezone(zone).date() for t in instants}
    out = []
    day: date = lo.astimezone(zone).date()
    while day <= hi.astimezone(zone).date():
        midnight = datetime.combine(day, time(), zone).astimezone(UTC)
        following = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        if day not in seen and midnight >= lo and following <= hi:  # whole local days only
            out.append({"instant": midnight, "status": "no_solar_event", "version": v.version, "date": day.isoformat(),
                        "reason": f"no {v.params.get('event', 'sunrise')} on {day.isoformat()} at this location"})
        day += timedelta(days=1)
    return out


def _enable_after(versions: Sequence[Version], index: int) -> datetime | None:
    for later in versions[index + 1:]:
        if later.enabled or later.deleted:
            return later.since
    return None


def explain(
    versions: Sequence[Version], runs: Iterable[Run], start: datetime, end: datetime, *,
    now: datetime, pruned_before: datetime | None, limit: int = MAX_ENTRIES,
) -> Explanation:
    """Every instant in [start, end] the schedule in force then called for, and every run asked
    for beside it, oldest first. A version is in force from its `since` (exclusive: an edit's new
    schedule fires strictly after it) to the next version's `since` (inclusive)."""
    scheduled: dict[datetime, Run] = {}
    entries: list[dict[str, Any]] = []
    for run in runs:
        if run.trigger in _SCHEDULED and run.scheduled_for is not None:
            scheduled[run.scheduled_for] = run
        elif start <= run.start_time <= end:
            entries.append({"instant": run.start_time, "status": "manual", "trigger": run.trigger,
                            "execution_id": run.execution_id, "outcome": run.status, "actor": run.actor})
    explained: set[datetime] = set()
    truncated = False
    for index, v in enumerate(versions):
        if v.deleted or v.schedule is None:
            continue
        following = versions[index + 1].since if index + 1 < len(versions) else None
        lo = max(v.since, start - timedelta(microseconds=1))
        hi = end if following is None else min(following, end)
        if hi <= lo:
            continue
        entries.extend(_bounds_entries(v, max(lo, start), hi))
        zone = _zone(v.params)
        until = None if v.enabled else _enable_after(versions, index)
        instants: list[datetime] = []
        t = v.schedule.next_after(lo)
        while t is not None and t <= hi:
            if len(entries) >= limit:
                truncated = True
                break
            instants.append(t)
            explained.add(t)
            run = scheduled.get(t)
            if run is not None:
                entry = _run_entry(t, run, v.version)
            elif not v.enabled:
                entry = {"instant": t, "status": "disabled", "version": v.version, "actor": v.actor,
                         "reason": v.disabled_reason, "since": v.since, "until": until}
            elif t > now:
                entry = {"instant": t, "status": "upcoming", "version": v.version}
            elif pruned_before is not None and t < pruned_before:
                entry = {"instant": t, "status": "pruned", "version": v.version,
                         "reason": "older than the execution retention: its record was deleted"}
            elif now - t < PENDING:
                entry = {"instant": t, "status": "pending", "version": v.version}
            else:
                entry = {"instant": t, "status": "not_recorded", "version": v.version,
                         "reason": "no dispatcher recorded this instant: none ran for the gateway since"}
            entries.append(entry)
            if zone is not None:
                gap = _gap_note(t, v, zone)
                if gap is not None:
                    entry["dst"] = gap
                twin = _fold_twin(t, zone)
                if twin is not None and start <= twin <= hi and twin != v.schedule.next_after(t):
                    entries.append({"instant": twin, "status": "dst_deduplicated", "version": v.version,
                                    "fired_at": t, "reason": "a repeated local time fires once, at its first pass"})
            t = v.schedule.next_after(t)
        if v.schedule_type == "sunrise":
            entries.extend(_solar_gaps(v, instants, max(lo, start), hi))
        if truncated:
            break
    for instant, run in scheduled.items():  # recorded for an instant no version in force called for
        if instant not in explained and start <= instant <= end and not truncated:
            entry = _run_entry(instant, run, 0)
            entry["reason"] = (entry.get("reason", "") + "; " if entry.get("reason") else "") + (
                "not an instant of the schedule in force (recorded by a dispatcher that had not yet seen an edit)")
            del entry["version"]
            entries.append(entry)
    entries.sort(key=lambda e: (e["instant"], e["status"]))
    return Explanation(entries[:limit], truncated or len(entries) > limit)
