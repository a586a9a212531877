"""The application's commands: small frozen types naming what a caller asks for, and the handler
that decides each one; `Scheduler.execute` (application/scheduler.py) commits what they decide."""

from application.commands.bulk import AdvanceGroup, DisableAll, ReenableDisabled, ResetAll, RunAll
from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import RegisterGateway
from application.commands.history import RevertJob, UndoOperation, UndoStep
from application.commands.jobs import CreateJob, DeleteJob, RunJob, ToggleJob, UpdateJob
from application.commands.registry import Command, batchable, handler_for
from application.commands.resources import ObserveResources
from application.commands.transfer import ImportJobs, ImportReport, Step

__all__ = [
    "AdvanceGroup", "Aggregates", "Command", "CommandContext", "CreateJob", "Decision", "DeleteJob", "DisableAll",
    "ImportJobs", "ImportReport", "ObserveResources", "ReenableDisabled", "RegisterGateway", "ResetAll", "RevertJob",
    "RunAll", "RunJob", "Step", "ToggleJob", "UndoOperation", "UndoStep", "UpdateJob", "batchable", "handler_for",
]
