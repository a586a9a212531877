"""The ResourceMonitor aggregate: one per gateway, which of its resources (CPU, memory, disk) are
over their threshold. Hysteresis: an alert is raised when a reading reaches its threshold and
cleared only when a reading falls below the threshold minus a margin, so a value hovering at the
threshold records one alert, not one per sample."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import ValidationFailed
from domain.identity import resource_monitor_uuid

RESOURCES = ("cpu", "memory", "disk")
_NAMES = {"cpu": "CPU", "memory": "Memory", "disk": "Disk"}


class ResourceMonitor(Aggregate):
    class Created(Aggregate.Created):
        gateway_id: str
        actor: str | None = None  # the cause (docs/events.md): written by the commit point
        request_id: str | None = None
        operation_id: str | None = None

    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self.alerting: dict[str, float] = {}  # resource -> the threshold its alert was raised at

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            """Events that change state override this."""

    class AlertRaised(Event):
        gateway_id: str
        resource: str
        level: str
        usage_percent: float
        threshold: float
        message: str
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, monitor: ResourceMonitor) -> None:
            monitor.alerting[self.resource] = self.threshold

    class AlertCleared(Event):
        gateway_id: str
        resource: str
        usage_percent: float
        threshold: float
        message: str
        actor: str | None = None
        request_id: str | None = None
        operation_id: str | None = None

        def apply(self, monitor: ResourceMonitor) -> None:
            monitor.alerting.pop(self.resource, None)

    @classmethod
    def create(cls, gateway_id: str, now: datetime) -> ResourceMonitor:
        return cls._create(cls.Created, id=resource_monitor_uuid(gateway_id), timestamp=now, gateway_id=gateway_id)

    def observe(self, resource: str, usage_percent: float, threshold: float, margin: float, now: datetime) -> None:
        """One reading (percent used): raise at or above `threshold`; clear, once raised, below
        `threshold - margin`; anything else records nothing."""
        if resource not in RESOURCES:
            raise ValidationFailed(f"Unknown resource {resource!r}", {"field": "resource"})
        name = _NAMES[resource]
        usage = round(float(usage_percent), 1)
        if resource not in self.alerting:
            if usage >= threshold:
                self.trigger_event(
                    self.AlertRaised, timestamp=now, gateway_id=self.gateway_id, resource=resource, level="warning",
                    usage_percent=usage, threshold=threshold,
                    message=f"High {name} usage detected ({usage:g}% >= {threshold:g}%)",
                )
        elif usage < self.alerting[resource] - margin:
            self.trigger_event(
                self.AlertCleared, timestamp=now, gateway_id=self.gateway_id, resource=resource,
                usage_percent=usage, threshold=self.alerting[resource],
                message=f"{name} usage back to normal ({usage:g}%)",
            )
