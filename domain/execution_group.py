"""The ExecutionGroup aggregate: the runs one run-all asked for, in order, and how each ended.

A group is started with its members (job id and the execution id its run will use); each member
is started (its Job.RunRequested is recorded in the same transaction), then finished (its
execution's final status) or skipped (why it never ran); the group completes once no member is
waiting or running. A sequential group starts a member only once the one before it finished
(decision 49); a parallel one starts every member with the group."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import ValidationFailed

_NAMESPACE = UUID("0b7f4c36-0d21-4b59-9c8e-5f3d2a61c7e4")
MemberState = Literal["waiting", "started", "finished", "skipped"]
GroupStatus = Literal["running", "completed", "completed_with_errors"]


def group_uuid(gateway_id: str, group_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"execution-group/{gateway_id}/{group_id}")


class ExecutionGroup(Aggregate):
    class Started(Aggregate.Created):
        gateway_id: str
        group_id: str
        sequential: bool
        members: list[dict[str, str]]  # [{"job_id", "execution_id"}], in run order
        include_tags: list[str]
        exclude_tags: list[str]
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

    def __init__(
        self, gateway_id: str, group_id: str, sequential: bool, members: list[dict[str, str]],
        include_tags: list[str], exclude_tags: list[str],
    ) -> None:
        self.gateway_id = gateway_id
        self.group_id = group_id
        self.sequential = sequential
        self.members = [dict(m) for m in members]
        self.states: list[MemberState] = ["waiting"] * len(members)
        self.outcomes: list[str | None] = [None] * len(members)
        self.started_at: list[datetime | None] = [None] * len(members)
        self.include_tags, self.exclude_tags = list(include_tags), list(exclude_tags)
        self.status: GroupStatus = "running"

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            """Events that change state override this."""

    class MemberStarted(Event):
        position: int
        job_id: str
        execution_id: str
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, group: ExecutionGroup) -> None:
            group.states[self.position] = "started"
            group.started_at[self.position] = self.timestamp

    class MemberFinished(Event):
        position: int
        job_id: str
        execution_id: str
        status: str  # the execution's final status: success | failed | timeout | missed
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, group: ExecutionGroup) -> None:
            group.states[self.position] = "finished"
            group.outcomes[self.position] = self.status

    class MemberSkipped(Event):
        position: int
        job_id: str
        execution_id: str
        reason: str
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, group: ExecutionGroup) -> None:
            group.states[self.position] = "skipped"
            group.outcomes[self.position] = self.reason

    class Completed(Event):
        gateway_id: str  # for readers that route by group (the live feed's schedule_event)
        group_id: str
        status: str  # completed (every member succeeded) | completed_with_errors
        succeeded: int
        failed: int
        skipped: int
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, group: ExecutionGroup) -> None:
            group.status = self.status  # type: ignore[assignment]

    # ---- commands --------------------------------------------------------------------------

    @classmethod
    def start(
        cls, *, gateway_id: str, group_id: str, sequential: bool, members: list[dict[str, str]],
        include_tags: list[str], exclude_tags: list[str], now: datetime,
    ) -> ExecutionGroup:
        return cls._create(
            cls.Started, id=group_uuid(gateway_id, group_id), timestamp=now, gateway_id=gateway_id,
            group_id=group_id, sequential=sequential, members=members, include_tags=include_tags,
            exclude_tags=exclude_tags,
        )

    def _member(self, position: int, expected: MemberState) -> dict[str, str]:
        if self.states[position] != expected:
            raise ValidationFailed(f"Member {position} of group {self.group_id} is {self.states[position]}", None)
        return self.members[position]

    def member_started(self, position: int, *, now: datetime) -> None:
        m = self._member(position, "waiting")
        self.trigger_event(self.MemberStarted, timestamp=now, position=position, job_id=m["job_id"],
                           execution_id=m["execution_id"])

    def member_finished(self, position: int, status: str, *, now: datetime) -> None:
        m = self._member(position, "started")
        self.trigger_event(self.MemberFinished, timestamp=now, position=position, job_id=m["job_id"],
                           execution_id=m["execution_id"], status=status)

    def member_skipped(self, position: int, reason: str, *, now: datetime) -> None:
        if self.states[position] not in ("waiting", "started"):
            raise ValidationFailed(f"Member {position} of group {self.group_id} is {self.states[position]}", None)
        m = self.members[position]
        self.trigger_event(self.MemberSkipped, timestamp=now, position=position, job_id=m["job_id"],
                           execution_id=m["execution_id"], reason=reason)

    def complete_if_done(self, *, now: datetime) -> bool:
        """Completes the group once no member waits or runs; returns whether it is complete."""
        if self.status != "running":
            return True
        if any(state in ("waiting", "started") for state in self.states):
            return False
        succeeded = sum(1 for s, o in zip(self.states, self.outcomes, strict=True) if s == "finished" and o == "success")
        skipped = self.states.count("skipped")
        failed = len(self.members) - succeeded - skipped
        status = "completed" if succeeded == len(self.members) else "completed_with_errors"
        self.trigger_event(self.Completed, timestamp=now, gateway_id=self.gateway_id, group_id=self.group_id, status=status,
                           succeeded=succeeded, failed=failed, skipped=skipped)
        return True

    def positions(self, state: MemberState) -> list[int]:
        return [i for i, s in enumerate(self.states) if s == state]
