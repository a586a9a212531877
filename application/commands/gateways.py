"""Commands on a gateway aggregate: a worker registering its identity."""

from __future__ import annotations

from dataclasses import dataclass

from application.commands.context import Aggregates, CommandContext, Decision
from domain.gateway import Gateway
from domain.identity import check_gateway_id


@dataclass(frozen=True, slots=True)
class RegisterGateway:
    gateway_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


def gateway_or_new(aggregates: Aggregates, gateway_id: str) -> Gateway:
    return aggregates.gateway(gateway_id) or Gateway.create(check_gateway_id(gateway_id), aggregates.clock())


def gateway_to_extend(aggregates: Aggregates, gateway_id: str) -> Gateway:
    """The gateway a create adds its job to: maybe the copy this process last saved (without the
    fast-forward read, docs/decisions.md 241), as every create records a JobAdded on it and the
    store refuses that event when another writer has moved the gateway since."""
    return aggregates.gateway_to_extend(gateway_id) or Gateway.create(check_gateway_id(gateway_id), aggregates.clock())


def register_gateway(command: RegisterGateway, aggregates: Aggregates, context: CommandContext) -> Decision:
    gateway = gateway_or_new(aggregates, command.gateway_id)
    gateway.register(
        name=command.name, location=command.location, latitude=command.latitude, longitude=command.longitude,
        now=aggregates.clock(),
    )
    return Decision((gateway,))
