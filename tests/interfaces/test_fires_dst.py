"""GET /jobs/{id}/fires over a spring-forward and a fall-back day, on the real database: the
instants the dispatcher's own index and planner fire for the job (the schedule object it builds
from the stored job) are recorded, and the explanation must name exactly those as fired, say which
one stands in for a swallowed local time, and explain the repeated local time that did not fire."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from application.dispatch.due_index import DueIndex, JobEntry
from application.dispatch.planner import plan_fires
from domain.execution import Execution
from domain.identity import execution_id as derive_execution_id
from tests.conftest import Api, job_body

_TICK = timedelta(microseconds=1)


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _next_changes(zone: ZoneInfo, after: date) -> dict[str, date]:
    """The next local day the zone springs forward and the next it falls back (the offset at the
    day's end differs from its start's)."""
    found: dict[str, date] = {}
    day = after
    while len(found) < 2:
        start = datetime.combine(day, time(), zone).utcoffset()
        end = datetime.combine(day, time(23, 59), zone).utcoffset()
        assert start is not None and end is not None
        if end > start:
            found.setdefault("spring", day)
        elif end < start:
            found.setdefault("fall", day)
        day += timedelta(days=1)
    return found


def _dispatched(runtime: Any, gateway_id: str, job_id: str, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end] the dispatcher fires for the job, each planned on time by its
    own index and planner from the job as stored."""
    entry = JobEntry.of(runtime.app.job(gateway_id, job_id), None)
    index = DueIndex(lambda: 0.0)
    index.entries[job_id] = entry
    index.schedule_after(entry, start - _TICK)
    fired: list[datetime] = []
    while (at := index.next_fire_at()) is not None and at <= end:
        plan = plan_fires(index.pop_due(at), index.entries, at)
        fired += [due.nominal for _, due in plan.starts]
        entry.running.clear()
        for planned, nominal in plan.reschedule:
            index.schedule_after(planned, nominal)
    return fired


def _record_fires(runtime: Any, gateway_id: str, job_id: str, instants: list[datetime]) -> None:
    executions = []
    for instant in instants:
        run = Execution.start(gateway_id=gateway_id, job_id=job_id, job_name="DST",
                              execution_id=derive_execution_id(job_id, "scheduled", instant), trigger="scheduled",
                              scheduled_for=instant, now=instant)
        run.succeed(now=instant + timedelta(seconds=1), duration_ms=1000, message="ok", logs=[])
        executions.append(run)
    recordings = runtime.app.record(executions)
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings))


CASES = [  # (type, schedule, local times fired on the spring day, swallowed, fired on the autumn day, repeated)
    ("cron", {"cron_expression": "30 2 * * *", "timezone": "Europe/Berlin"}, ["03:00"], ["02:30:00"],
     ["02:30"], ["02:30:00"]),
    ("daily", {"time": "02:30", "timezone": "Europe/Berlin"}, ["03:00"], ["02:30:00"], ["02:30"], ["02:30:00"]),
    # New York: 02:30 does not exist in spring, 01:30 happens twice in autumn.
    ("cron", {"cron_expression": "30 1,2 * * *", "timezone": "America/New_York"}, ["01:30", "03:00"], ["02:30:00"],
     ["01:30", "02:30"], ["01:30:00"]),
]


def _local_times(found: list[dict[str, Any]], zone: ZoneInfo, day: date) -> list[str]:
    local = [_at(f["instant"]).astimezone(zone) for f in found if f["status"] == "fired"]
    return [t.strftime("%H:%M") for t in local if t.date() == day]


@pytest.mark.parametrize(("kind", "schedule", "spring_local", "swallowed", "fall_local", "repeated"), CASES)
def test_fires_over_dst_days_name_the_shifted_fire_and_the_deduplicated_pass_as_dispatched(
    api: Api, runtime: Any, kind: str, schedule: dict[str, Any], spring_local: list[str], swallowed: list[str],
    fall_local: list[str], repeated: list[str],
) -> None:
    zone = ZoneInfo(schedule["timezone"])
    job_id = _ok(api.post("/jobs", job_body(name="DST", type=kind, schedule=schedule)), 201)["job_id"]
    days = _next_changes(zone, datetime.now(UTC).date() + timedelta(days=2))

    spring_day = days["spring"]
    start = datetime.combine(spring_day - timedelta(days=1), time(), zone).astimezone(UTC)
    end = datetime.combine(spring_day + timedelta(days=2), time(), zone).astimezone(UTC)
    fired = _dispatched(runtime, api.gateway_id, job_id, start, end)
    _record_fires(runtime, api.gateway_id, job_id, fired)
    found = _ok(api.get(f"/jobs/{job_id}/fires", params={"from": _iso(start), "to": _iso(end)}))["fires"]
    assert [(f["instant"], f["status"]) for f in found] == [(_iso(t), "fired") for t in fired]
    shifted = [f for f in found if "dst" in f]
    assert [f["dst"]["wall_time"] for f in shifted] == swallowed
    for entry in shifted:  # fired at the first instant after the gap, on the gap's day
        local = _at(entry["dst"]["fired_local"])
        assert _at(entry["instant"]) == local and local.date() == spring_day and local.time() == time(3)
        assert entry["dst"]["kind"] == "gap"
    assert _local_times(found, zone, spring_day) == spring_local
    assert len(found) == 3 * len(spring_local)  # the days around it fire as many times: nothing lost

    fall_day = days["fall"]
    start = datetime.combine(fall_day - timedelta(days=1), time(), zone).astimezone(UTC)
    end = datetime.combine(fall_day + timedelta(days=2), time(), zone).astimezone(UTC)
    fired = _dispatched(runtime, api.gateway_id, job_id, start, end)
    _record_fires(runtime, api.gateway_id, job_id, fired)
    found = _ok(api.get(f"/jobs/{job_id}/fires", params={"from": _iso(start), "to": _iso(end)}))["fires"]
    assert [f["instant"] for f in found if f["status"] == "fired"] == [_iso(t) for t in fired]
    deduplicated = [f for f in found if f["status"] == "dst_deduplicated"]
    assert len(deduplicated) == len(repeated)
    for entry, wall in zip(deduplicated, repeated, strict=True):
        second, first = _at(entry["instant"]), _at(entry["fired_at"])
        assert second - first == timedelta(hours=1) and _iso(first) in {_iso(t) for t in fired}
        assert second not in fired  # the second pass really did not fire
        assert second.astimezone(zone).time().isoformat() == wall == first.astimezone(zone).time().isoformat()
        assert second.astimezone(zone).fold == 1 and second.astimezone(zone).date() == fall_day
    assert _local_times(found, zone, fall_day) == fall_local
    assert len(fired) == 3 * len(fall_local) and len(found) == len(fired) + len(repeated)
    assert not any("dst" in f for f in found)
