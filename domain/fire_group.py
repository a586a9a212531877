"""The FireGroup aggregate: several jobs of a gateway due at the same instant, started together
(the live feed announces it as `schedule_event`). Recorded by the dispatcher in the transaction
that records the group's runs; its id derives from the instant, so two replicas recording the same
instant collide as their runs do."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from domain.identity import fire_group_id, fire_group_uuid


class FireGroup(Aggregate):
    class Started(Aggregate.Created):
        gateway_id: str
        group_id: str
        scheduled_for: datetime
        job_ids: list[str]
        tags: list[str]  # the union of the jobs' tags (the live feed's tags filter)

    def __init__(self, gateway_id: str, group_id: str, scheduled_for: datetime, job_ids: list[str],
                 tags: list[str]) -> None:
        self.gateway_id, self.group_id, self.scheduled_for = gateway_id, group_id, scheduled_for
        self.job_ids, self.tags = list(job_ids), list(tags)

    @classmethod
    def start(cls, gateway_id: str, scheduled_for: datetime, job_ids: list[str], tags: list[str],
              now: datetime) -> FireGroup:
        group_id = fire_group_id(scheduled_for)
        return cls._create(
            cls.Started, id=fire_group_uuid(gateway_id, group_id), timestamp=now, gateway_id=gateway_id,
            group_id=group_id, scheduled_for=scheduled_for, job_ids=list(job_ids), tags=sorted(set(tags)),
        )
