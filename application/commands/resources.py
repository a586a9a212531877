"""Commands on a gateway's ResourceMonitor: the worker's sampler reporting readings (percent used
of CPU, memory, disk); the aggregate decides, with hysteresis, whether an alert is raised or cleared."""

from __future__ import annotations

from dataclasses import dataclass

from application.commands.context import Aggregates, CommandContext, Decision
from domain.identity import check_gateway_id
from domain.resources import ResourceMonitor


@dataclass(frozen=True, slots=True)
class ObserveResources:
    gateway_id: str
    readings: tuple[tuple[str, float], ...]  # (resource, percent used)
    thresholds: tuple[tuple[str, float], ...]  # (resource, percent that raises an alert)
    margin: float  # an alert clears below its threshold minus this


def observe_resources(command: ObserveResources, aggregates: Aggregates, context: CommandContext) -> Decision:
    """Records nothing while no alert changes (nor a monitor never needed yet)."""
    now = aggregates.clock()
    existing = aggregates.resource_monitor(command.gateway_id)
    monitor = existing or ResourceMonitor.create(check_gateway_id(command.gateway_id), now)
    thresholds = dict(command.thresholds)
    for resource, usage in command.readings:
        if resource in thresholds:
            monitor.observe(resource, usage, thresholds[resource], command.margin, now)
    changed = len(monitor.pending_events) > (0 if existing is not None else 1)
    return Decision((monitor,) if changed else ())
