"""Which handler decides which command: the one table the commit point dispatches on (bulk,
import and undo commands join it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.commands.bulk import (
    AdvanceGroup,
    DisableAll,
    ReenableDisabled,
    ResetAll,
    RunAll,
    advance_group,
    disable_all,
    reenable_disabled,
    reset_all,
    run_all,
)
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
from application.commands.resources import ObserveResources, observe_resources
from application.commands.transfer import ImportJobs, import_jobs

Command = (
    CreateJob | UpdateJob | ToggleJob | DeleteJob | RunJob | RegisterGateway | ObserveResources | RevertJob
    | RunAll | DisableAll | ReenableDisabled | ResetAll | AdvanceGroup | ImportJobs | UndoOperation
)
Handler = Callable[[Any, Aggregates, CommandContext], Decision]

_HANDLERS: dict[type[Any], Handler] = {
    CreateJob: create_job,
    UpdateJob: update_job,
    ToggleJob: toggle_job,
    DeleteJob: delete_job,
    RunJob: run_job,
    RegisterGateway: register_gateway,
    ImportJobs: import_jobs,
    RunAll: run_all,
    DisableAll: disable_all,
    ReenableDisabled: reenable_disabled,
    ResetAll: reset_all,
    AdvanceGroup: advance_group,
    ObserveResources: observe_resources,
    RevertJob: revert_job,
    UndoOperation: undo_operation,
}


def handler_for(command: Command) -> Handler:
    try:
        return _HANDLERS[type(command)]
    except KeyError:
        raise TypeError(f"{type(command).__name__} is not a command") from None


# Commands on a whole gateway (many jobs in one transaction already) are executed alone, never
# decided in a batch beside others (decision 80): batching them gains nothing, and their reads of
# many jobs at once are the Scheduler's, not a batch's shared copies.
_ALONE: frozenset[type[Any]] = frozenset(
    {RunAll, DisableAll, ReenableDisabled, ResetAll, AdvanceGroup, ImportJobs, UndoOperation}
)


def batchable(command: Command) -> bool:
    return type(command) not in _ALONE
