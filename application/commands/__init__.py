"""The application's commands: small frozen types naming what a caller asks for, and the handler
that decides each one; `Scheduler.execute` (application/scheduler.py) commits what they decide."""

from application.commands.context import Aggregates, CommandContext, Decision
from application.commands.gateways import RegisterGateway
from application.commands.history import RevertJob, UndoOperation, UndoStep
from application.commands.jobs import CreateJob, DeleteJob, RunJob, ToggleJob, UpdateJob
from application.commands.registry import Command, handler_for

__all__ = [
    "Aggregates", "Command", "CommandContext", "CreateJob", "Decision", "DeleteJob", "RegisterGateway", "RevertJob", "RunJob",
    "ToggleJob", "UndoOperation", "UndoStep", "UpdateJob", "handler_for",
]
