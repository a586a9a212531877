"""Every command the commit point may decide in a batch (`batchable`) loads only what the batch's
shared working copies (`Together`, application/group_commit.py) can load: a batchable command
whose handler asked for a loader Together lacks would fail only when it happens to share a batch.

What a handler loads is read from its source: each `aggregates.<name>` it (or a function it passes
its aggregates to) uses. A use the reading cannot follow fails the test rather than pass unseen."""

from __future__ import annotations

import ast
import inspect
import textwrap
from types import FunctionType, SimpleNamespace
from typing import Any, get_args

import pytest

from application.commands import Command, batchable, handler_for
from application.group_commit import Together


def _parameter_names(function: FunctionType) -> list[str]:
    return list(inspect.signature(function).parameters)


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """The object a called name (`f` or `module.f`) refers to in the function's module, or None."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def loads(function: FunctionType, parameter: str, seen: frozenset[Any] = frozenset()) -> set[str]:
    """The attributes of `parameter` that `function` uses, directly or through the functions it
    hands `parameter` to. Raises AssertionError on a use it cannot follow (an alias, a method of
    another object, a value returned or stored)."""
    if (function, parameter) in seen:
        return set()
    seen = seen | {(function, parameter)}
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef), f"{function.__qualname__} is not a plain function"
    used: set[str] = set()
    followed: set[int] = set()  # ids of Name nodes accounted for
    for node in ast.walk(definition):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == parameter:
            used.add(node.attr)
            followed.add(id(node.value))
        elif isinstance(node, ast.Call):
            passed = [(i, None, a) for i, a in enumerate(node.args)] + [(None, k.arg, k.value) for k in node.keywords]
            for index, keyword, value in passed:
                if not (isinstance(value, ast.Name) and value.id == parameter):
                    continue
                callee = _resolve(node.func, function.__globals__)
                name = ast.unparse(node.func)
                assert isinstance(callee, FunctionType), (
                    f"{function.__qualname__} passes {parameter} to {name}, which this check cannot follow")
                names = _parameter_names(callee)
                target = keyword if keyword is not None else names[index]
                used |= loads(callee, target, seen)
                followed.add(id(value))
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and node.id == parameter and id(node) not in followed:
            raise AssertionError(
                f"{function.__qualname__} uses {parameter} at line {node.lineno} in a way this check cannot follow")
    return used


def _command_types() -> list[type[Any]]:
    return list(get_args(Command))


def _bare(command_type: type[Any]) -> Any:
    """An instance only for asking the registry about its type (batchable, handler_for read the type)."""
    return object.__new__(command_type)


def _batchable_types() -> list[type[Any]]:
    return [t for t in _command_types() if batchable(_bare(t))]


def lacking(handler: FunctionType) -> list[str]:
    """What the handler loads that a batch's Together cannot (its second parameter is the aggregates)."""
    needed = loads(handler, _parameter_names(handler)[1])
    assert needed, f"{handler.__name__} loads nothing: the reading of its source found no aggregates.<name>"
    together = Together(SimpleNamespace(max_jobs=1, clock=lambda: None))
    return sorted(name for name in needed if not hasattr(together, name))


@pytest.mark.parametrize("command_type", _batchable_types(), ids=lambda t: t.__name__)
def test_a_batchable_command_loads_only_what_the_batch_can_load(command_type: type[Any]) -> None:
    missing = lacking(handler_for(_bare(command_type)))
    assert not missing, (
        f"{command_type.__name__} is batchable but its handler needs {missing}, which Together lacks: "
        "add the loader to Together or list the command in registry._ALONE")


def test_the_commands_are_batchable_but_for_those_on_a_whole_gateway() -> None:
    batchable_names = {t.__name__ for t in _batchable_types()}
    assert {"CreateJob", "UpdateJob", "ToggleJob", "DeleteJob", "RunJob"} <= batchable_names
    assert not {"ImportJobs", "UndoOperation", "RunAll", "DisableAll"} & batchable_names


# ---- the reading itself, on handlers written here ------------------------------------------


def _gateway_of(aggregates: Any, gateway_id: str) -> Any:
    return aggregates.gateway(gateway_id)


def _handler_through_a_helper(command: Any, aggregates: Any, context: Any) -> Any:
    aggregates.clock()
    return _gateway_of(aggregates, command.gateway_id)


def _handler_through_a_keyword(command: Any, store: Any, context: Any) -> Any:
    return _gateway_of(gateway_id="g", aggregates=store)


def _handler_needing_a_loader_no_batch_has(command: Any, aggregates: Any, context: Any) -> Any:
    aggregates.clock()
    return aggregates.every_job_ever_recorded(command.gateway_id)


def _handler_hiding_its_aggregates(command: Any, aggregates: Any, context: Any) -> Any:
    kept = aggregates
    return kept.jobs_of(command.gateway_id)


def _handler_handing_them_to_a_method(command: Any, aggregates: Any, context: Any) -> Any:
    return command.decide_with(aggregates)


def test_the_reading_follows_helpers_by_position_and_by_keyword() -> None:
    assert loads(_handler_through_a_helper, "aggregates") == {"clock", "gateway"}
    assert loads(_handler_through_a_keyword, "store") == {"gateway"}


def test_a_loader_together_lacks_is_named() -> None:
    assert lacking(_handler_needing_a_loader_no_batch_has) == ["every_job_ever_recorded"]
    assert lacking(_handler_through_a_helper) == []


@pytest.mark.parametrize("handler", [_handler_hiding_its_aggregates, _handler_handing_them_to_a_method],
                         ids=lambda h: h.__name__)
def test_a_use_the_reading_cannot_follow_fails_rather_than_passes(handler: FunctionType) -> None:
    with pytest.raises(AssertionError, match="cannot follow"):
        loads(handler, "aggregates")
