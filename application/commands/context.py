"""What every command carries (who asked, in which request, as part of which operation) and what
its handler hands back to the commit point (the aggregates that change together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.execution import Execution
from domain.execution_group import ExecutionGroup
from domain.gateway import Gateway
from domain.job import Job
from domain.resources import ResourceMonitor


@dataclass(frozen=True, slots=True)
class CommandContext:
    """The cause recorded on every event a command records: the actor (a token's subject, or the
    worker), the request id the API assigned (None outside a request), and the operation (a bulk
    change, an import, an undo) the command belongs to, if any."""

    actor: str
    request_id: str | None
    operation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A handler's verdict: every aggregate with pending events (saved in one transaction), the
    job the command was about, the execution id a run request will use, and what a command on many
    jobs did to each (an import's report)."""

    aggregates: Sequence[Any]
    job: Job | None = None
    execution_id: str | None = None
    report: Any = None  # what a command on many jobs did (an import's report, a bulk command's answer)


class Aggregates(Protocol):
    """How a handler loads what it decides on (the Scheduler provides it)."""

    max_jobs: int

    def clock(self) -> datetime: ...

    def job(self, gateway_id: str, job_id: str) -> Job: ...

    def job_ever(self, gateway_id: str, job_id: str) -> Job | None: ...

    def jobs_ever(self, gateway_id: str, job_ids: Sequence[str]) -> dict[str, Job | None]: ...

    def job_at(self, gateway_id: str, job_id: str, version: int) -> Job: ...

    def gateway(self, gateway_id: str) -> Gateway | None: ...

    def gateway_to_extend(self, gateway_id: str) -> Gateway | None:
        """`gateway`, for a decision that records an event on it (see commands/gateways.py)."""
        ...

    def jobs_of(self, gateway_id: str) -> list[tuple[Job, list[Any]]]: ...

    def execution(self, gateway_id: str, execution_id: str) -> Execution | None: ...

    def execution_group(self, gateway_id: str, group_id: str) -> ExecutionGroup | None: ...

    def resource_monitor(self, gateway_id: str) -> ResourceMonitor | None: ...
