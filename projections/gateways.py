"""The gateways read model: each gateway's identity and location (job counts come from `jobs`)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.gateway import Gateway
from projections.view import TrackedView


class GatewaysView(TrackedView):
    tracking_table = "gateways_tracking"
    tables = ("gateways",)


class GatewaysProjection(Projection[GatewaysView]):
    name = "gateways"
    topics = (get_topic(Gateway.Created), get_topic(Gateway.Registered))

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        self.view.record(tracking)

    @process_event.register
    def _created(self, event: Gateway.Created, tracking: Tracking) -> None:
        sql = (
            "INSERT INTO gateways (gateway_id, aggregate_id, name, created_at)"
            " VALUES (%(gateway_id)s, %(id)s, %(gateway_id)s, %(at)s)"
        )
        params = {"gateway_id": event.gateway_id, "id": event.originator_id, "at": event.timestamp}
        self.view.record(tracking, [(sql, params)])

    @process_event.register
    def _registered(self, event: Gateway.Registered, tracking: Tracking) -> None:
        sql = (
            "UPDATE gateways SET name = %(name)s, location = %(location)s, latitude = %(latitude)s,"
            " longitude = %(longitude)s WHERE aggregate_id = %(id)s"
        )
        params = {"name": event.name, "location": event.location, "latitude": event.latitude,
                  "longitude": event.longitude, "id": event.originator_id}
        self.view.record(tracking, [(sql, params)])
