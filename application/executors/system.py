"""The system executor: whitelisted operations (health_check) over injected checks; no shell, no subprocess."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

from application.executors.log import ExecutionLog
from application.executors.ports import (
    EXECUTION_TIMEOUT,
    ExecutionContext,
    ExecutionResult,
)
from domain.actions import Action, SystemAction

Check = Callable[[], tuple[bool, str]]


def disk_check(path: str | Path, min_free_percent: float = 5) -> tuple[bool, str]:
    """Healthy while the file system holding `path` has at least `min_free_percent` free."""
    usage = psutil.disk_usage(str(path))
    free_percent = 100.0 - usage.percent
    detail = f"{free_percent:.1f}% free ({usage.free // 2**20} MiB of {usage.total // 2**20} MiB) at {path}"
    return free_percent >= min_free_percent, detail


def memory_check(max_percent: float = 95) -> tuple[bool, str]:
    """Healthy while used memory stays at or below `max_percent`."""
    memory = psutil.virtual_memory()
    detail = f"{memory.percent:.1f}% used ({memory.available // 2**20} MiB available)"
    return memory.percent <= max_percent, detail


class SystemExecutor:
    """Runs whitelisted system operations; `health_check` runs every injected check concurrently."""

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self._checks = dict(checks)

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        log = ExecutionLog()
        if not isinstance(action, SystemAction) or action.operation != "health_check":
            operation = getattr(action, "operation", action.type)
            return ExecutionResult.failure(f"system operation {operation!r} is not supported", log,
                                           error_code="ACTION_NOT_SUPPORTED")
        return self._health_check(ctx, log)

    def _health_check(self, ctx: ExecutionContext, log: ExecutionLog) -> ExecutionResult:
        deadline = ctx.deadline()
        outcomes: dict[str, tuple[bool, str]] = {}
        threads = {
            name: threading.Thread(target=_run_check, args=(check, name, outcomes), daemon=True,
                                   name=f"health-check-{name}")
            for name, check in self._checks.items()
        }
        for thread in threads.values():
            thread.start()
        for thread in threads.values():
            thread.join(max(deadline - time.monotonic(), 0.0))
        answered = dict(outcomes)  # a late check may still write; judge one snapshot
        results: dict[str, dict[str, object]] = {}
        for name in self._checks:
            ok, detail = answered.get(name, (False, f"no answer within {ctx.timeout_seconds:g}s"))
            results[name] = {"ok": ok, "detail": detail}
            (log.info if ok else log.error)(f"{name}: {'ok' if ok else 'FAILED'} - {detail}")
        failed = sorted(name for name, result in results.items() if not result["ok"])
        timed_out = any(name not in answered for name in self._checks)
        if failed:
            extra = {"error_code": EXECUTION_TIMEOUT} if timed_out else {}
            return ExecutionResult.failure(f"health check failed: {', '.join(failed)}", log,
                                           checks=results, **extra)
        return ExecutionResult.success(f"health check passed ({len(results)} checks)", log, checks=results)


def _run_check(check: Check, name: str, outcomes: dict[str, tuple[bool, str]]) -> None:
    try:
        ok, detail = check()
        outcome = (bool(ok), str(detail))
    except Exception as error:  # a broken probe is a failed check, not a crashed execution
        outcome = (False, f"check raised {type(error).__name__}: {error}")
    outcomes[name] = outcome
