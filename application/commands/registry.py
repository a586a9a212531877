"""Which handler decides which command: the one table the commit point dispatches on (bulk,
import and undo commands join it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import RegisterGateway, register_gateway
from application.commands.history import (
    RevertJob,
    UndoOperation,
    revert_job,
    undo_operation,
)
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

Command = CreateJob | UpdateJob | ToggleJob | DeleteJob | RunJob | RegisterGateway | RevertJob | UndoOperation
Handler = Callable[[Any, Aggregates, CommandContext], Decision]

_HANDLERS: dict[type[Any], Handler] = {
    CreateJob: create_job,
    UpdateJob: update_job,
    ToggleJob: toggle_job,
    DeleteJob: delete_job,
    RunJob: run_job,
    RegisterGateway: register_gateway,
    RevertJob: revert_job,
    UndoOperation: undo_operation,
}


def handler_for(command: Command) -> Handler:
    try:
        return _HANDLERS[type(command)]
    except KeyError:
        raise TypeError(f"{type(command).__name__} is not a command") from None
