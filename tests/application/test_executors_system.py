"""The system executor: health_check runs every injected check; only whitelisted operations exist."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from application.executors import ActionRunner, ExecutionLog
from application.executors.ports import ExecutionContext, ExecutionResult
from application.executors.system import SystemExecutor, disk_check, memory_check
from domain.actions import parse_action
from domain.errors import ActionNotSupported

HEALTH_CHECK = {"type": "system", "operation": "health_check"}


def context(timeout: float = 5.0) -> ExecutionContext:
    suffix = uuid.uuid4().hex[:8]
    return ExecutionContext(job_id=f"job_{suffix}", job_name="Health Check", execution_id=f"exec_{suffix}",
                            gateway_id="GW-3920A9", device_id="dev-7", now=datetime.now(UTC), parameters={},
                            timeout_seconds=timeout)


def test_health_check_reports_every_check():
    checks = {"database": lambda: (True, "select 1 ok"), "broker": lambda: (True, "connected")}
    result = SystemExecutor(checks).execute(parse_action(HEALTH_CHECK), context())
    assert result.status == "success"
    assert result.details["checks"] == {"database": {"ok": True, "detail": "select 1 ok"},
                                        "broker": {"ok": True, "detail": "connected"}}
    messages = [line.message for line in result.logs]
    assert "database: ok - select 1 ok" in messages and "broker: ok - connected" in messages


def test_one_failing_check_fails_the_health_check():
    checks = {"database": lambda: (True, "ok"), "broker": lambda: (False, "not connected")}
    result = SystemExecutor(checks).execute(parse_action(HEALTH_CHECK), context())
    assert result.status == "failed"
    assert result.message == "health check failed: broker"
    assert result.details["checks"]["broker"] == {"ok": False, "detail": "not connected"}
    assert result.details["checks"]["database"]["ok"] is True


def test_a_check_that_raises_counts_as_failed():
    def broken() -> tuple[bool, str]:
        raise ConnectionError("database unreachable")

    result = SystemExecutor({"database": broken}).execute(parse_action(HEALTH_CHECK), context())
    assert result.status == "failed"
    assert result.details["checks"]["database"] == {
        "ok": False, "detail": "check raised ConnectionError: database unreachable"}


def test_a_hanging_check_fails_within_the_timeout():
    checks = {"slow": lambda: (time.sleep(5), (True, "late"))[1], "fast": lambda: (True, "ok")}
    started = time.monotonic()
    result = SystemExecutor(checks).execute(parse_action(HEALTH_CHECK), context(timeout=0.3))
    assert time.monotonic() - started < 1.0
    assert result.status == "failed"
    assert result.details["checks"]["slow"]["ok"] is False
    assert result.details["error_code"] == "EXECUTION_TIMEOUT"
    assert result.details["checks"]["fast"]["ok"] is True


def test_disk_and_memory_checks_use_real_figures(tmp_path):
    ok, detail = disk_check(tmp_path, min_free_percent=0)
    assert ok is True and "% free" in detail
    assert disk_check(tmp_path, min_free_percent=101)[0] is False
    ok, detail = memory_check(max_percent=100)
    assert ok is True and "% used" in detail
    assert memory_check(max_percent=-1)[0] is False


def test_real_checks_run_through_the_executor(tmp_path):
    executor = SystemExecutor({"disk": lambda: disk_check(tmp_path, 0), "memory": lambda: memory_check(100)})
    result = executor.execute(parse_action(HEALTH_CHECK), context())
    assert result.status == "success" and set(result.details["checks"]) == {"disk", "memory"}


def test_unknown_operation_cannot_even_be_parsed():
    with pytest.raises(ActionNotSupported):
        parse_action({"type": "system", "operation": "shell", "parameters": {"command": "reboot"}})


class Recorder:
    def __init__(self, name: str) -> None:
        self.name, self.calls = name, []

    def execute(self, action, ctx):
        self.calls.append(action)
        return ExecutionResult.success(self.name, ExecutionLog())


def test_runner_dispatches_on_action_type():
    publisher, system, files = Recorder("publish"), Recorder("system"), Recorder("file")
    runner = ActionRunner(publisher, system, files)
    for params in [{"type": "publish", "topic": "a/b"}, HEALTH_CHECK,
                   {"type": "file", "operation": "cleanup", "pattern": "*.log"}]:
        assert runner.execute(parse_action(params), context()).message == params["type"]
    assert [len(r.calls) for r in (publisher, system, files)] == [1, 1, 1]


def test_execution_log_is_bounded_and_notes_truncation():
    log = ExecutionLog(max_lines=5, max_line_chars=40)
    for index in range(12):
        log.info(f"line {index} " + "x" * 100)
    lines = log.lines
    assert len(lines) == 5
    assert all(len(line.message) <= 40 for line in lines)
    assert lines[-1].message == "log truncated: 8 more lines dropped"
    assert lines[0].to_dict()["timestamp"].endswith("Z")
    exact = ExecutionLog(max_lines=3)
    for index in range(3):
        exact.info(str(index))
    assert [line.message for line in exact.lines] == ["0", "1", "2"]
