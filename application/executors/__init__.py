"""Executors that run actions, and the runner that picks one by action type."""

from __future__ import annotations

from application.executors.log import ExecutionLog, LogLine
from application.executors.ports import ExecutionContext, ExecutionResult, Executor
from domain.actions import Action

__all__ = ["ActionRunner", "ExecutionContext", "ExecutionLog", "ExecutionResult", "Executor", "LogLine"]


class ActionRunner:
    """Dispatches an action to the executor for its type."""

    def __init__(self, publisher: Executor, system: Executor, files: Executor) -> None:
        self._executors: dict[str, Executor] = {"publish": publisher, "system": system, "file": files}

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        executor = self._executors.get(action.type)
        if executor is None:
            return ExecutionResult.failure(f"action type {action.type!r} is not supported", ExecutionLog(),
                                           error_code="ACTION_NOT_SUPPORTED")
        return executor.execute(action, ctx)
