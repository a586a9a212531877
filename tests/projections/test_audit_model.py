"""The audit read model's generic reading of Job events: actions named from classes, snapshots
evolved from whatever configuration fields an event carries (events added later by bulk, import
or reset included), and events recorded before they carried their cause read as actor `unknown`."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.job import Job
from interfaces.database import create_database, drop_database
from projections.audit import action_of, evolve


class Imported:  # shaped like an event another branch may add: configuration fields by name
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class Reset(Imported):
    pass


class BulkDisabled(Imported):
    pass


def test_actions_are_the_class_names_in_lower_case_words():
    assert [action_of(e) for e in (Imported(), Reset(), BulkDisabled())] == ["imported", "reset", "bulk disabled"]
    assert action_of(Job.RunRequested.__new__(Job.RunRequested)) == "run requested"


def test_a_later_event_changes_exactly_the_configuration_fields_it_carries():
    before = {"name": "a", "type": "interval", "schedule": {"interval_seconds": 10}, "enabled": True,
              "disabled_reason": "", "deleted": False, "tags": ["x"]}
    after = evolve(before, Imported(name="b", schedule_type="cron", schedule={"cron_expression": "* * * * *"},
                                    operation_id="op-1", parameters={"ignored": True}))
    assert after == {**before, "name": "b", "type": "cron", "schedule": {"cron_expression": "* * * * *"}}
    off = evolve(after, BulkDisabled(enabled=False, reason="bulk: night", next_execution=None))
    assert (off["enabled"], off["disabled_reason"], off["next_execution"]) == (False, "bulk: night", None)
    when = datetime(2025, 1, 1, 12, tzinfo=UTC)
    on = evolve(off, Reset(enabled=True, reason="reset", next_execution=when))
    assert (on["enabled"], on["disabled_reason"], on["next_execution"]) == (True, "", "2025-01-01T12:00:00Z")


@pytest.fixture
def own_runtime(server_url: str, settings: Any) -> Any:
    """A database of its own: the crafted event stays out of the session's log."""
    from interfaces.runtime import Runtime

    url = create_database(server_url, "gs_audit_old")
    runtime = Runtime(replace(settings, database_url=url)).start()
    yield runtime
    runtime.close()
    drop_database(server_url, url)


def test_an_event_recorded_without_its_cause_reads_as_actor_unknown(own_runtime: Any) -> None:
    runtime = own_runtime
    gateway_id = f"gw-{uuid.uuid4().hex[:8]}"
    job = Job.create(gateway_id=gateway_id, job_id="old-job", actor="x", now=runtime.clock(), fields={
        "name": "old", "type": "interval", "schedule": {"interval_seconds": 60},
        "action": {"type": "publish", "topic": "t/x"}})
    for event in job.pending_events:  # as recorded before the cause existed: no such fields at all
        for name in ("actor", "request_id", "operation_id"):
            object.__delattr__(event, name)
    recordings = runtime.app.save(job)
    assert runtime.wait(tuple((r.notification.topic, r.notification.id) for r in recordings))
    row = runtime.reads.one("SELECT actor, request_id, operation_id, action FROM job_versions"
                            " WHERE gateway_id = %(g)s AND job_id = 'old-job'", {"g": gateway_id})
    assert row == {"actor": "unknown", "request_id": None, "operation_id": None, "action": "created"}
    listed = runtime.reads.one("SELECT created_by FROM jobs WHERE gateway_id = %(g)s", {"g": gateway_id})
    assert listed == {"created_by": "unknown"}  # the job list reads it too, rather than failing
