"""The execution groups read model: each run-all's group (status, counts) and its members in run
order, from the ExecutionGroup events; a member's execution is read from `executions` at query
time (projections/group_queries.py)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.execution_group import ExecutionGroup
from projections.view import TrackedView


class ExecutionGroupsView(TrackedView):
    tracking_table = "execution_groups_tracking"
    tables = ("execution_groups", "execution_group_members")


_MEMBER = (
    "UPDATE execution_group_members m SET state = %(state)s, outcome = %(outcome)s, {instant} = %(at)s"
    " FROM execution_groups g WHERE g.aggregate_id = %(id)s AND m.gateway_id = g.gateway_id"
    " AND m.group_id = g.group_id AND m.position = %(position)s"
)


class ExecutionGroupsProjection(Projection[ExecutionGroupsView]):
    name = "execution_groups"
    topics = tuple(
        get_topic(cls) for cls in (
            ExecutionGroup.Started, ExecutionGroup.MemberStarted, ExecutionGroup.MemberFinished,
            ExecutionGroup.MemberSkipped, ExecutionGroup.Completed,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        self.view.record(tracking)

    @process_event.register
    def _started(self, event: ExecutionGroup.Started, tracking: Tracking) -> None:
        group = (
            "INSERT INTO execution_groups (gateway_id, group_id, aggregate_id, operation_id, sequential, status,"
            " total_jobs, include_tags, exclude_tags, actor, started_at) VALUES (%(gateway_id)s, %(group_id)s,"
            " %(id)s, %(operation_id)s, %(sequential)s, 'running', %(total)s, %(include)s, %(exclude)s,"
            " %(actor)s, %(at)s)"
        )
        members = (
            "INSERT INTO execution_group_members (gateway_id, group_id, position, job_id, execution_id, state)"
            " SELECT %(gateway_id)s, %(group_id)s, u.n - 1, u.job_id, u.execution_id, 'waiting'"
            " FROM unnest(%(jobs)s::text[], %(executions)s::text[]) WITH ORDINALITY AS u(job_id, execution_id, n)"
        )
        params = {
            "gateway_id": event.gateway_id, "group_id": event.group_id, "id": event.originator_id,
            "operation_id": event.operation_id, "sequential": event.sequential, "total": len(event.members),
            "include": list(event.include_tags), "exclude": list(event.exclude_tags), "actor": event.actor or "",
            "at": event.timestamp, "jobs": [m["job_id"] for m in event.members],
            "executions": [m["execution_id"] for m in event.members],
        }
        self.view.record(tracking, [(group, params), (members, params)])

    def _member(self, event: Any, tracking: Tracking, state: str, outcome: str | None, instant: str) -> None:
        params = {"id": event.originator_id, "position": event.position, "state": state, "outcome": outcome,
                  "at": event.timestamp}
        self.view.record(tracking, [(_MEMBER.format(instant=instant), params)])

    @process_event.register
    def _member_started(self, event: ExecutionGroup.MemberStarted, tracking: Tracking) -> None:
        self._member(event, tracking, "started", None, "started_at")

    @process_event.register
    def _member_finished(self, event: ExecutionGroup.MemberFinished, tracking: Tracking) -> None:
        self._member(event, tracking, "finished", event.status, "finished_at")

    @process_event.register
    def _member_skipped(self, event: ExecutionGroup.MemberSkipped, tracking: Tracking) -> None:
        self._member(event, tracking, "skipped", event.reason, "finished_at")

    @process_event.register
    def _completed(self, event: ExecutionGroup.Completed, tracking: Tracking) -> None:
        sql = "UPDATE execution_groups SET status = %(status)s, finished_at = %(at)s WHERE aggregate_id = %(id)s"
        self.view.record(tracking, [(sql, {"status": event.status, "at": event.timestamp, "id": event.originator_id})])
