"""The invariants of issue 8, computed over the event store, a read model and what the broker
delivered; shared by the fault suite (tests/faults) and the chaos bench (bench/chaos.py, which puts
the repository root on sys.path and imports this module: it lives under tests/ because the tests
must not depend on bench/, and it imports nothing from tests/ beyond tests.faults).

It reads only persisted facts: `scheduler_events` (decoded by the Scheduler application's mapper,
as tests/application/dispatch_support.executions does), `dispatch_inflight`, and the deliveries a
subscriber saw (execution id -> receive times). Instants expected are the job's schedule from its
creation to the end of the check window; the caller picks that end a few seconds before it checks,
so instants near "now" (the edge margin) are not judged."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent

GRACE = 2.0  # seconds: the misfire grace of the dispatcher (application/due_index.GRACE)
LATE_SLACK = 0.75  # seconds beyond the grace allowed for the path to the subscriber
GHOST_SLACK = 4.0  # seconds beyond a run's timeout after which a run still open is a ghost
DELIVERY_SLACK = 5.0  # seconds a recorded success may wait for its message to reach the subscriber
CRASH_WINDOW = 1.0  # seconds: a message that arrived this shortly before a kill -9 may lack its outcome
SKIP_OVERLAP = 0.3  # seconds of tolerance when checking that a skipped instant overlapped a run
VIOLATIONS = ("lost", "doubled", "ghost", "unexpected_instant", "published_twice", "success_not_delivered",
              "failed_but_delivered", "late_under_skip", "late_as_scheduled", "false_skip", "inflight_finished", "never_started_not_retried")


def ts(moment: datetime) -> float:
    return moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Run:
    """One Execution aggregate as its events tell it."""

    aggregate_id: Any
    execution_id: str
    job_id: str
    gateway_id: str
    scheduled_for: float | None
    trigger: str
    created: float
    missed: bool
    reason: str = ""
    status: str = "running"
    code: str = ""
    ended: float | None = None
    last_event: float = 0.0
    terminals: int = 0
    retries: int = 0
    codes: list[str] = field(default_factory=list)
    max_attempts: int = 1


@dataclass
class JobInfo:
    job_id: str
    gateway_id: str
    created: datetime
    schedule: Any
    options: Any
    action_type: str


@dataclass
class Report:
    table: dict[str, Any]
    violations: dict[str, list[str]]
    pending: list[str]

    @property
    def broken(self) -> list[str]:
        return [name for name in VIOLATIONS if self.violations.get(name)]

    def format(self, limit: int = 8) -> str:
        lines = [f"{k:>26}: {v}" for k, v in self.table.items()]
        for name in self.broken:
            found = self.violations[name]
            lines.append(f"VIOLATION {name} ({len(found)}): " + "; ".join(found[:limit]) + (" ..." if len(found) > limit else ""))
        if self.pending:
            lines.append(f"still pending ({len(self.pending)}): " + "; ".join(self.pending[:limit]))
        return "\n".join(lines)


def read_events(url: str, mapper: Any) -> list[Any]:
    """Every Job and Execution event, in log order, decoded."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM scheduler_events"
            " WHERE topic LIKE 'domain.execution:%%' OR topic LIKE 'domain.job:%%' ORDER BY notification_id").fetchall()
    return [mapper.to_domain_event(StoredEvent(r[0], r[1], r[2], bytes(r[3]))) for r in rows]


def inflight_ids(url: str) -> set[Any] | None:
    """Aggregate ids in dispatch_inflight (None if the table is gone: a later design may drop it)."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        try:
            return {r[0] for r in conn.execute("SELECT execution_aggregate_id FROM dispatch_inflight")}
        except psycopg.errors.UndefinedTable:
            return None


def build(events: list[Any], gateways: set[str]) -> tuple[dict[str, JobInfo], dict[Any, Run]]:
    from domain.execution import TIMEOUT, Execution
    from domain.job import Job

    jobs: dict[Any, Any] = {}
    runs: dict[Any, Run] = {}
    for event in events:
        name = type(event).__qualname__
        if name.startswith("Job."):
            if isinstance(event, Job.Created):
                if event.gateway_id in gateways:
                    jobs[event.originator_id] = event.mutate(None)
            elif event.originator_id in jobs:
                jobs[event.originator_id] = event.mutate(jobs[event.originator_id])
            continue
        at = ts(event.timestamp)
        if isinstance(event, (Execution.Started, Execution.Missed)):
            if event.gateway_id not in gateways:
                continue
            missed = isinstance(event, Execution.Missed)
            run = runs[event.originator_id] = Run(
                event.originator_id, event.execution_id, event.job_id, event.gateway_id,
                ts(event.scheduled_for) if event.scheduled_for else None,
                "missed" if missed else event.trigger, at, missed, last_event=at,
                max_attempts=getattr(event, "max_attempts", 1))
            if missed:
                run.reason, run.status, run.ended, run.terminals = event.reason, "missed", at, 1
            continue
        run = runs.get(event.originator_id)
        if run is None:
            continue
        run.last_event = at
        if isinstance(event, Execution.Succeeded):
            run.status, run.ended, run.terminals = "success", at, run.terminals + 1
        elif isinstance(event, Execution.Failed):
            run.codes.append(event.code)
            if event.will_retry:
                run.status = "retrying"
            else:
                run.status = "timeout" if event.code == TIMEOUT else "failed"
                run.code, run.ended, run.terminals = event.code, at, run.terminals + 1
        elif isinstance(event, Execution.Retrying):
            run.status, run.retries = "running", run.retries + 1
    infos = {}
    for job in jobs.values():
        action = job.config.action
        infos[job.job_id] = JobInfo(job.job_id, job.gateway_id, job.created_on, job.schedule_for(None), job.options,
                                    action.get("type", "") if isinstance(action, dict) else getattr(action, "type", ""))
    return infos, runs


def expected_instants(job: JobInfo, window_end: float) -> list[float]:
    found, t = [], job.schedule.next_after(job.created)
    while t is not None and ts(t) <= window_end:
        found.append(ts(t))
        t = job.schedule.next_after(t)
    return found


def check(jobs: dict[str, JobInfo], runs: dict[Any, Run], deliveries: dict[str, list[float]], *,
          window_end: float, now: float, kills: list[float] = (), inflight: set[Any] | None = None,
          never_started: set[str] = frozenset()) -> Report:
    """`kills`: epoch times of kill -9s; a run INTERRUPTED whose message arrived at most CRASH_WINDOW
    before one is the documented crash ambiguity (at most once per crash), not a violation. `never_started`: ids of
    runs the case knows were recorded but never began before a crash; each must be retried."""
    v: dict[str, list[str]] = defaultdict(list)
    pending: list[str] = []
    by_instant: dict[tuple[str, float], list[Run]] = defaultdict(list)
    for run in runs.values():
        if run.scheduled_for is not None:
            by_instant[(run.job_id, run.scheduled_for)].append(run)
    expected = 0
    for job in jobs.values():
        instants = expected_instants(job, window_end)
        expected += len(instants)
        known = set(instants)
        for t in instants:
            found = by_instant.get((job.job_id, t), [])
            label = f"{job.job_id}@{iso(t)}"
            terminals = sum(r.terminals for r in found)
            if not found:
                v["lost"].append(label)
            elif len(found) > 1 or terminals > 1:
                v["doubled"].append(f"{label} ({len(found)} runs, {terminals} outcomes)")
            elif terminals == 0:
                run = found[0]
                if now - run.last_event > job.options.timeout_seconds + GHOST_SLACK:
                    v["ghost"].append(f"{label} {run.execution_id} {run.status} since {iso(run.last_event)}")
                else:
                    pending.append(f"{label} {run.status}")
        for (job_id, t), found in by_instant.items():
            if job_id == job.job_id and t <= window_end and t not in known and t >= ts(job.created):
                v["unexpected_instant"].append(f"{job_id}@{iso(t)} {[r.trigger for r in found]}")
    status = Counter(r.status for r in runs.values() if r.scheduled_for and r.scheduled_for <= window_end)
    failed_codes = Counter(r.code for r in runs.values() if r.code and r.scheduled_for and r.scheduled_for <= window_end)
    reasons = Counter(_short(r.reason) for r in runs.values() if r.missed and r.scheduled_for and r.scheduled_for <= window_end)
    ambiguous = 0
    for run in runs.values():
        job = jobs.get(run.job_id)
        if job is None or job.action_type != "publish":
            continue
        got = sorted(deliveries.get(run.execution_id, []))
        label = f"{run.job_id}@{iso(run.scheduled_for) if run.scheduled_for else 'manual'} {run.execution_id}"
        if len(got) > 1:
            v["published_twice"].append(f"{label} x{len(got)} at {[iso(g) for g in got]} ({run.status} {run.codes})")
        if run.status == "success" and not got:
            (pending if now - (run.ended or now) < DELIVERY_SLACK else v["success_not_delivered"]).append(label)
        if run.status in ("failed", "timeout") and got:
            # Crash ambiguity: the action took effect, then its worker was killed before it could
            # record that (within CRASH_WINDOW). Delivered longer before the kill: a writer failure.
            crash = run.code == "INTERRUPTED" and any(got[0] <= k <= got[0] + CRASH_WINDOW for k in kills)
            if crash:
                ambiguous += 1
            else:
                v["failed_but_delivered"].append(f"{label} {run.code} at {iso(run.ended or 0)}, delivered {iso(got[0])}")
        if not run.missed and run.scheduled_for is not None and run.retries == 0:
            # Lateness (recorded start or arrival, whichever is later) beyond the grace follows the
            # misfire policy: under skip it must not run at all, otherwise only as a misfire run.
            lateness = max([run.created, *got[:1]]) - run.scheduled_for
            if lateness > GRACE + LATE_SLACK and job.options.misfire_policy == "skip":
                v["late_under_skip"].append(f"{label} {run.trigger} {lateness:.1f} s late")
            elif lateness > GRACE + LATE_SLACK and run.trigger == "scheduled" and job.options.overlap_policy != "queue":
                v["late_as_scheduled"].append(f"{label} {lateness:.1f} s late ({job.options.misfire_policy})")
        if run.execution_id in never_started and run.max_attempts > 1 and run.ended and run.code == "INTERRUPTED":
            # It never began, so it is not an interrupted attempt: it must run (launched by the next
            # leader, or retried), not be closed with an unknown outcome.
            v["never_started_not_retried"].append(f"{label} {run.status} {run.code}")
        if run.missed and "still running" in run.reason and run.scheduled_for is not None:
            # A skip says a run of the job was open at its instant; one caught up late says a run
            # begun after its instant was open when the skip was recorded (decision 293).
            caught_up = "caught up late" in run.reason
            t = run.created if caught_up else run.scheduled_for
            busy = [o for o in runs.values() if o.job_id == run.job_id and not o.missed and o is not run
                    and o.created - SKIP_OVERLAP <= t <= (o.ended or now) + SKIP_OVERLAP
                    and (not caught_up or o.created > run.scheduled_for)]
            if not busy:
                v["false_skip"].append(f"{label}: no run of the job was open then")
    if inflight is not None:
        for aggregate_id in inflight:
            run = runs.get(aggregate_id)
            if run is not None and run.ended is not None:
                v["inflight_finished"].append(f"{run.job_id} {run.execution_id} {run.status}")
    table: dict[str, Any] = {
        "jobs": len(jobs), "instants expected": expected, "runs recorded": sum(len(x) for (_, t), x in by_instant.items() if t <= window_end),
        "succeeded": status.get("success", 0), "failed by code": dict(failed_codes) or "-",
        "missed by reason": dict(reasons) or "-", "crash-ambiguous (ok)": ambiguous,
        "messages delivered (all)": sum(len(x) for x in deliveries.values()),
    }
    table.update({name: len(v.get(name, [])) for name in VIOLATIONS})
    return Report(table, dict(v), pending)


def _short(reason: str) -> str:
    return reason.split(";")[0][:60]
