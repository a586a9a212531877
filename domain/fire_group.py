"""The FireGroup aggregate: several jobs of a gateway due at the same instant, started together,
and completed once every member's run has ended (the live feed announces both as `schedule_event`).
Started by the dispatcher in the transaction that records the group's runs; its id derives from
the instant, so two replicas recording the same instant collide as their runs do. Completed in the
transaction that records its last member's end (application/dispatch/fire_groups.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from eventsourcing.domain import Aggregate

from domain.execution import FINAL
from domain.identity import execution_id as derive_execution_id
from domain.identity import fire_group_id, fire_group_uuid

GroupStatus = Literal["running", "completed", "completed_with_errors"]


class FireGroup(Aggregate):
    class Started(Aggregate.Created):
        gateway_id: str
        group_id: str
        scheduled_for: datetime
        job_ids: list[str]
        tags: list[str]  # the union of the jobs' tags (the live feed's tags filter)
        execution_ids: tuple[str, ...] = ()  # the members' runs, as job_ids (empty in groups recorded before it)

    def __init__(self, gateway_id: str, group_id: str, scheduled_for: datetime, job_ids: list[str],
                 tags: list[str], execution_ids: tuple[str, ...] | list[str] = ()) -> None:
        self.gateway_id, self.group_id, self.scheduled_for = gateway_id, group_id, scheduled_for
        self.job_ids, self.tags = list(job_ids), list(tags)
        # A scheduled run's id derives from its job and instant: an older group's members are those.
        self.execution_ids = list(execution_ids or [derive_execution_id(j, "scheduled", scheduled_for) for j in job_ids])
        self.status: GroupStatus = "running"

    class Completed(Aggregate.Event):
        gateway_id: str  # what the live feed routes and filters by, as on Started
        group_id: str
        scheduled_for: datetime
        job_ids: list[str]
        tags: list[str]
        status: str  # completed (every member's run succeeded) | completed_with_errors
        succeeded: int
        failed: int  # failed, timed out, interrupted or cancelled

        def apply(self, group: Any) -> None:
            group.status = self.status

    @classmethod
    def start(cls, gateway_id: str, scheduled_for: datetime, job_ids: list[str], tags: list[str],
              now: datetime, execution_ids: list[str] | None = None) -> FireGroup:
        group_id = fire_group_id(scheduled_for)
        return cls._create(
            cls.Started, id=fire_group_uuid(gateway_id, group_id), timestamp=now, gateway_id=gateway_id,
            group_id=group_id, scheduled_for=scheduled_for, job_ids=list(job_ids), tags=sorted(set(tags)),
            execution_ids=list(execution_ids or []),
        )

    def complete_if_done(self, statuses: Mapping[str, str], *, now: datetime) -> bool:
        """`statuses`: the members' runs' statuses by execution id (a member not in it has not
        ended). Completes the group once every member's run is final; returns whether it is complete."""
        if self.status != "running":
            return True
        ended = [statuses.get(e) for e in self.execution_ids]
        if any(status not in FINAL for status in ended):
            return False
        succeeded = ended.count("success")
        self.trigger_event(
            self.Completed, timestamp=now, gateway_id=self.gateway_id, group_id=self.group_id,
            scheduled_for=self.scheduled_for, job_ids=list(self.job_ids), tags=list(self.tags),
            status="completed" if succeeded == len(ended) else "completed_with_errors",
            succeeded=succeeded, failed=len(ended) - succeeded,
        )
        return True
