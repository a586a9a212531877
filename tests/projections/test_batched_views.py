"""A read model records a burst of events in one transaction (docs/decisions.md 83), with the same
rows as recording them one at a time."""

from __future__ import annotations

import uuid
from typing import Any

from application.commands import CommandContext, CreateJob, ToggleJob
from projections.runner import rebuild
from tests.projections.test_execution_history import own_runtime  # noqa: F401 - a database of its own

ROWS = "SELECT * FROM jobs WHERE gateway_id = %s ORDER BY job_id"


def test_a_burst_is_recorded_together_with_the_rows_of_one_event_at_a_time(own_runtime):  # noqa: F811
    runtime: Any = own_runtime
    thread = next(t for t in runtime.projections if t.projection.name == "job_list")
    flushed: list[int] = []
    flush = thread.view.flush

    def counting() -> None:
        flushed.append(len(thread.view._pending))
        flush()

    thread.view.flush = counting  # type: ignore[method-assign]
    gateway_id = f"gw-burst-{uuid.uuid4().hex[:8]}"
    context = CommandContext("t", None)
    commands = [
        (CreateJob(gateway_id=gateway_id, name=f"n{i}", type="interval", schedule={"interval_seconds": 60 + i},
                   action={"type": "publish", "topic": "t/burst"}, job_id=f"j{i:02d}"), context)
        for i in range(40)
    ]
    try:
        outcomes = runtime.app.execute_batch(commands)  # one transaction: the log holds them all at once
        assert all(not isinstance(o, Exception) for o in outcomes), outcomes
        assert runtime.wait(outcomes[-1].recorded, timeout=30)
    finally:
        thread.view.flush = flush  # type: ignore[method-assign]
    assert max(flushed) >= 40, flushed  # the job list recorded the 40 creates in one transaction
    together = runtime.reads.all(ROWS, (gateway_id,))
    assert [r["job_id"] for r in together] == [f"j{i:02d}" for i in range(40)]
    rebuild(runtime.app, thread.projection)  # this thread records each event at once
    assert runtime.reads.all(ROWS, (gateway_id,)) == together


AUDIT = "SELECT version, event_type, changes, snapshot FROM job_versions WHERE gateway_id = %s ORDER BY version"


def test_the_audit_of_a_burst_reads_the_rows_it_has_not_committed_yet(own_runtime):  # noqa: F811
    """A create and a toggle of the same job in one burst: the toggle's row is built on the create's,
    though that one is still waiting in the view's transaction (and the same as one at a time)."""
    runtime: Any = own_runtime
    thread = next(t for t in runtime.projections if t.projection.name == "audit")
    gateway_id = f"gw-audit-{uuid.uuid4().hex[:8]}"
    context = CommandContext("t", None)
    create = CreateJob(gateway_id=gateway_id, name="n", type="interval", schedule={"interval_seconds": 60},
                       action={"type": "publish", "topic": "t/burst"}, job_id="j00")
    outcomes = runtime.app.execute_batch([(create, context), (ToggleJob(gateway_id, "j00", False, "pause"), context)])
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert runtime.wait(outcomes[-1].recorded, timeout=30)
    together = runtime.reads.all(AUDIT, (gateway_id,))
    assert [(r["version"], r["event_type"]) for r in together] == [(1, "Job.Created"), (2, "Job.Toggled")]
    assert together[1]["snapshot"]["name"] == "n" and together[1]["snapshot"]["disabled_reason"] == "pause"
    rebuild(runtime.app, thread.projection)  # one event at a time
    assert runtime.reads.all(AUDIT, (gateway_id,)) == together
