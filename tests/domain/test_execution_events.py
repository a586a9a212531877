"""Execution builds its events directly (docs/decisions.md 201): the same events, attribute for
attribute and in the same order, and the same aggregate, as the library's `_create` and
`trigger_event` build from the same arguments; and the aggregate read back from those events
equals the one that recorded them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.application import project_aggregate

from domain.execution import ACTION_FAILED, TIMEOUT, Execution
from domain.identity import execution_uuid

AT = datetime(2025, 3, 12, 15, 10, 30, 123456, tzinfo=UTC)
LATER = AT + timedelta(seconds=3)


def _state(obj: Any) -> list[tuple[str, Any]]:
    """An object's attributes in order, pending events as their own states."""
    return [(k, [(type(e), _state(e)) for e in v] if k == "_pending_events" else v) for k, v in vars(obj).items()]


def _library_started(**fields: Any) -> Execution:
    return Execution._create(Execution.Started, id=execution_uuid(fields["gateway_id"], fields["execution_id"]),
                             timestamp=AT, **fields)


STARTED = {
    "gateway_id": "gw-1", "job_id": "job_1", "execution_id": "job_1-s-1", "job_name": "Poll é",
    "trigger": "scheduled", "scheduled_for": AT - timedelta(seconds=1), "jitter_seconds": 0.25,
    "parameters": {"a": 1, "b": [1.5, None]}, "actor": "scheduler", "max_attempts": 3,
    "request_id": "r-1", "operation_id": None, "tags": ("x", "y"),
}


def _direct() -> Execution:
    return Execution.start(now=AT, **STARTED)


def test_a_started_run_is_the_library_s_event_and_aggregate():
    direct, library = _direct(), _library_started(**STARTED)
    assert _state(direct) == _state(library)
    assert type(direct.pending_events[0]) is Execution.Started


def test_a_missed_run_is_the_library_s_event_and_aggregate():
    fields = {"gateway_id": "gw-1", "job_id": "job_1", "execution_id": "job_1-s-2", "job_name": "Poll",
              "scheduled_for": AT, "reason": "skipped: the previous run was still running", "tags": ("x",)}
    direct = Execution.missed(now=AT, **fields)
    library = Execution._create(Execution.Missed, id=execution_uuid("gw-1", "job_1-s-2"), timestamp=AT, **fields)
    assert _state(direct) == _state(library)
    assert direct.status == "missed" and direct.ended_at == AT


def _outcomes(execution: Execution, *, library: bool) -> None:
    """Every outcome path in turn: a retried failure, a retry, a final failure; then on fresh runs
    a success, a timeout, an interruption and a cancellation (the callers below)."""
    named = {"gateway_id": "gw-1", "job_id": "job_1", "job_name": "Poll é", "execution_id": "job_1-s-1",
             "tags": ("x", "y")}
    if library:
        execution.trigger_event(Execution.Failed, timestamp=LATER, duration_ms=7, code=ACTION_FAILED, error="no",
                                retry_count=0, will_retry=True, logs=[{"level": "error", "message": "no"}],
                                details={"resources": {"cpu_percent": 1.5}}, **named)
        execution.trigger_event(Execution.Retrying, timestamp=LATER, attempt=2)
    else:
        assert execution.fail(now=LATER, duration_ms=7, code=ACTION_FAILED, error="no",
                              logs=[{"level": "error", "message": "no"}], details={"resources": {"cpu_percent": 1.5}})
        execution.retry(now=LATER)


def test_outcomes_are_the_library_s_events_and_state():
    direct, library = _direct(), _library_started(**STARTED)
    _outcomes(direct, library=False)
    _outcomes(library, library=True)
    assert _state(direct) == _state(library)
    assert direct.status == "running" and direct.attempt == 2 and direct.version == 3


def _closing(execution: Execution, how: str, *, library: bool) -> None:
    named = {"gateway_id": "gw-1", "job_id": "job_1", "job_name": "Poll é", "execution_id": "job_1-s-1",
             "tags": ("x", "y")}
    if how == "succeed":
        if library:
            execution.trigger_event(Execution.Succeeded, timestamp=LATER, duration_ms=5, message="ok", logs=[],
                                    details={}, **named)
        else:
            execution.succeed(now=LATER, duration_ms=5, message="ok", logs=[])
        return
    code, error = {"fail": (TIMEOUT, "slow"), "interrupt": ("INTERRUPTED", "interrupted: the worker stopped"),
                   "cancel": ("CANCELLED", "cancelled: gone")}[how]
    if library:
        execution.trigger_event(Execution.Failed, timestamp=LATER, duration_ms=0, code=code, error=error,
                                retry_count=0, will_retry=how == "fail", logs=[], details={}, **named)
    elif how == "fail":  # a timeout with attempts left: retried

        execution.fail(now=LATER, duration_ms=0, code=TIMEOUT, error="slow", logs=[])
    elif how == "interrupt":
        execution.interrupt(now=LATER, reason="the worker stopped")
    else:
        execution.cancel(now=LATER, reason="gone")


def test_every_closing_event_is_the_library_s_and_reads_back_the_same():
    for how in ("succeed", "fail", "interrupt", "cancel"):
        direct, library = _direct(), _library_started(**STARTED)
        _closing(direct, how, library=False)
        _closing(library, how, library=True)
        assert _state(direct) == _state(library), how
        events = direct.collect_events()
        replayed = project_aggregate(None, events)
        assert _state(replayed) == _state(direct), how
