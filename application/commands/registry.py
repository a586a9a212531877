"""Which handler decides which command: the one table the commit point dispatches on (bulk,
import and undo commands join it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import RegisterGateway, register_gateway
from application.commands.jobs import (
    CreateJob,
    DeleteJob,
    RunJob,
    ToggleJob,
    UpdateJob,
    create_job,
    delete_job,
    run_job,
    toggle_job,
    update_job,
)
from application.commands.resources import ObserveResources, observe_resources

Command = CreateJob | UpdateJob | ToggleJob | DeleteJob | RunJob | RegisterGateway | ObserveResources
Handler = Callable[[Any, Aggregates, CommandContext], Decision]

_HANDLERS: dict[type[Any], Handler] = {
    CreateJob: create_job,
    UpdateJob: update_job,
    ToggleJob: toggle_job,
    DeleteJob: delete_job,
    RunJob: run_job,
    RegisterGateway: register_gateway,
    ObserveResources: observe_resources,
}


def handler_for(command: Command) -> Handler:
    try:
        return _HANDLERS[type(command)]
    except KeyError:
        raise TypeError(f"{type(command).__name__} is not a command") from None
