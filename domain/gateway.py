"""The Gateway aggregate: a gateway's identity, location and the set of its jobs (for limits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import MaxJobsExceeded
from domain.identity import gateway_uuid


class Gateway(Aggregate):
    class Created(Aggregate.Created):
        gateway_id: str
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self.name = gateway_id
        self.location = ""
        self.latitude: float | None = None
        self.longitude: float | None = None
        self.job_ids: list[str] = []

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            """Events that change state override this; Created is applied by __init__."""

    class Registered(Event):
        name: str
        location: str
        latitude: float | None
        longitude: float | None
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, gateway: Gateway) -> None:
            gateway.name, gateway.location = self.name, self.location
            gateway.latitude, gateway.longitude = self.latitude, self.longitude

    class JobAdded(Event):
        job_id: str
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, gateway: Gateway) -> None:
            gateway.job_ids.append(self.job_id)

    class JobRemoved(Event):
        job_id: str
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, gateway: Gateway) -> None:
            gateway.job_ids.remove(self.job_id)

    @classmethod
    def create(cls, gateway_id: str, now: datetime) -> Gateway:
        return cls._create(cls.Created, id=gateway_uuid(gateway_id), timestamp=now, gateway_id=gateway_id)

    @property
    def location_point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)

    def register(
        self, *, name: str, location: str, latitude: float | None, longitude: float | None, now: datetime
    ) -> None:
        """Record the worker's identity; re-registering unchanged records nothing."""
        if (name, location, latitude, longitude) != (self.name, self.location, self.latitude, self.longitude):
            self.trigger_event(
                self.Registered, timestamp=now, name=name, location=location, latitude=latitude, longitude=longitude
            )

    def add_job(self, job_id: str, *, max_jobs: int, now: datetime) -> None:
        if len(self.job_ids) >= max_jobs:
            raise MaxJobsExceeded(
                f"Gateway {self.gateway_id} already has {len(self.job_ids)} jobs (max {max_jobs})",
                {"gateway_id": self.gateway_id, "max_jobs": max_jobs},
            )
        self.trigger_event(self.JobAdded, timestamp=now, job_id=job_id)

    def remove_job(self, job_id: str, *, now: datetime) -> None:
        if job_id in self.job_ids:
            self.trigger_event(self.JobRemoved, timestamp=now, job_id=job_id)
