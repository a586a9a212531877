"""Helpers for dispatcher tests: a controllable fake executor and dispatcher construction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from application.dispatch.dispatcher import Dispatcher
from application.executors.log import ExecutionLog
from application.executors.ports import ExecutionContext, ExecutionResult
from application.dispatch.leadership import Leadership
from domain.actions import Action
from interfaces.database import conninfo


class FakeExecutor:
    """Records each start (with wall time); `behaviour(ctx, attempt_no)` decides the result."""

    def __init__(self, behaviour: Callable[[ExecutionContext, int], ExecutionResult] | None = None) -> None:
        self.calls: list[tuple[float, ExecutionContext]] = []
        self.lock = threading.Lock()
        self.behaviour = behaviour

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        with self.lock:
            self.calls.append((time.time(), ctx))
            n = sum(1 for _, c in self.calls if c.execution_id == ctx.execution_id)
        if self.behaviour is not None:
            return self.behaviour(ctx, n)
        return ExecutionResult.success("ok", ExecutionLog())


def sleeper(seconds: float) -> Callable[[ExecutionContext, int], ExecutionResult]:
    def behave(ctx: ExecutionContext, n: int) -> ExecutionResult:
        time.sleep(seconds)
        return ExecutionResult.success(f"slept {seconds}", ExecutionLog())

    return behave


def dispatcher(runtime: Any, gateway_id: str, executor: Any, **kw: Any) -> Dispatcher:
    dsn = conninfo(runtime.url)
    return Dispatcher(runtime.app, gateway_id, executor, Leadership(dsn, gateway_id), tick=0.05, **kw)


def executions(runtime: Any, gateway_id: str) -> list[Any]:
    """Every Execution aggregate recorded for the gateway, read from the event log."""
    from domain.execution import Execution

    found: dict[Any, Any] = {}
    for n in runtime.app.recorder.select_notifications(1, 1_000_000):
        if not n.topic.startswith("domain.execution:"):
            continue
        event = runtime.app.mapper.to_domain_event(n)
        if isinstance(event, (Execution.Started, Execution.Missed)):
            if event.gateway_id == gateway_id:
                found[event.originator_id] = event.mutate(None)
        elif event.originator_id in found:
            event.mutate(found[event.originator_id])
    return list(found.values())


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
