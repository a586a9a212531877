"""The executor port: what an execution is given, what it hands back, and the Executor protocol."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from application.executors.log import ExecutionLog, LogLine
from domain.actions import Action

SUCCESS = "success"
FAILED = "failed"
EXECUTION_TIMEOUT = "EXECUTION_TIMEOUT"
DELIVERY_UNKNOWN = "DELIVERY_UNKNOWN"  # domain.execution's code of the same name: never retried
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class ExecutionContext:
    job_id: str
    job_name: str
    execution_id: str
    gateway_id: str
    device_id: str
    now: datetime
    parameters: Mapping[str, Any]
    timeout_seconds: float

    def now_utc(self) -> datetime:
        """`now` as an aware UTC instant (a naive `now` is taken to be UTC)."""
        if self.now.tzinfo is None:
            return self.now.replace(tzinfo=UTC)
        return self.now.astimezone(UTC)

    def deadline(self) -> float:
        """The `time.monotonic()` instant by which a blocking step must give up."""
        return time.monotonic() + max(self.timeout_seconds, 0.0)

    def template_variables(self) -> dict[str, str]:
        """Run parameters by name, then the built-ins, which a parameter cannot shadow."""
        variables = {
            name: value if isinstance(value, str) else json.dumps(value, default=str)
            for name, value in self.parameters.items()
            if isinstance(name, str) and _PARAMETER_NAME.fullmatch(name)
        }
        variables.update(
            NOW=self.now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"),
            JOB_ID=self.job_id,
            JOB_NAME=self.job_name,
            EXECUTION_ID=self.execution_id,
            GATEWAY_ID=self.gateway_id,
            DEVICE_ID=self.device_id,
        )
        return variables


@dataclass
class ExecutionResult:
    status: str  # "success" | "failed"
    message: str
    logs: list[LogLine]
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def success(cls, message: str, log: ExecutionLog, **details: Any) -> ExecutionResult:
        log.info(message)
        return cls(SUCCESS, message, log.lines, dict(details))

    @classmethod
    def failure(cls, message: str, log: ExecutionLog, **details: Any) -> ExecutionResult:
        log.error(message)
        return cls(FAILED, message, log.lines, dict(details))


class Executor(Protocol):
    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        """Run one action synchronously within ctx.timeout_seconds; a failing action returns `failed`."""
        ...
