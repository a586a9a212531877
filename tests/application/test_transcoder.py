"""The msgspec transcoder writes byte for byte what eventsourcing's JSONTranscoder writes with the
Scheduler's transcodings, and reads back what either wrote as the library does (docs/decisions.md
200): over one event of every domain event class, the events and snapshots of real commands, and
values msgspec would write differently (left to the library's encoder)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
import typing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

import domain
from application.scheduler import JobConfigAsDict, Scheduler
from application.transcoder import FastJSONTranscoder
from domain.identity import job_uuid

AT = datetime(2026, 3, 29, 1, 30, 5, 120, tzinfo=UTC)


POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
# The library's own transcoder with the Scheduler's transcodings (named by TRANSCODER_TOPIC), beside the default.
LIBRARY = Scheduler(env={**POPO, "TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder"}).mapper.transcoder
FAST = Scheduler(env=POPO).mapper.transcoder


def _same(state: Any) -> bytes:
    """Encoded alike by both; decoded alike by both from those bytes."""
    written = LIBRARY.encode(state)
    assert FAST.encode(state) == written
    assert _typed(FAST.decode(written)) == _typed(LIBRARY.decode(written))
    return written


def _typed(value: Any) -> Any:
    """A value with the type of every part in it (1 == 1.0 == True otherwise)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value), value)


def test_the_scheduler_uses_the_fast_transcoder_with_its_transcodings():
    assert type(FAST) is FastJSONTranscoder and type(LIBRARY) is JSONTranscoder
    assert set(FAST.names) == set(LIBRARY.names) >= {"datetime_iso", "uuid_hex", "decimal_str", JobConfigAsDict.name}


# ---- one event of every domain event class --------------------------------------------------


def _event_classes() -> list[type]:
    found: dict[str, type] = {}
    for module in pkgutil.iter_modules(domain.__path__):
        for holder in vars(importlib.import_module(f"domain.{module.name}")).values():
            for attr in vars(holder).values() if isinstance(holder, type) else ():
                if isinstance(attr, type) and issubclass(attr, DomainEvent) and attr.__module__.startswith("domain."):
                    found[f"{attr.__module__}:{attr.__qualname__}"] = attr
    return [found[k] for k in sorted(found)]


def _sample(hint: Any, name: str, i: int) -> Any:
    """A value of the annotated type, with the awkward parts of each type: non-ASCII and escaped
    characters, fractions of seconds, negative and fractional numbers, nested containers."""
    if name == "originator_id":
        return uuid4()
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if i % 2 else _sample(options[0], name, i)
    if hint is str:
        return f"{name} é€ \"q\" \\ \n\t\x01 😀 {i}"
    if hint is bool:
        return i % 2 == 0
    if hint is int:
        return -i if i % 3 else 2**40 + i
    if hint is float:
        return [0.0, 1.5, -12345.678, 0.0001][i % 4]
    if hint is datetime:
        return AT + timedelta(microseconds=i)
    if origin is list or origin is tuple:
        item = typing.get_args(hint)[0]
        values = [_sample(item, name, i + k) for k in range(2)]
        return values if origin is list else tuple(values)
    if origin is dict:
        return {"a": [1, 2.5, None, True], "b": {"c": "é", "d": AT}, "e": UUID(int=i), "f": Decimal("1.10")}
    if hint is Any or typing.get_origin(hint) is None and not isinstance(hint, type):  # TypeVar: the id
        return {"k": "v"}
    raise AssertionError(f"no sample for {hint!r}")


def test_every_domain_event_class_is_written_and_read_alike():
    classes = _event_classes()
    assert len(classes) >= 30
    mapper = Mapper(transcoder=LIBRARY)
    for i, cls in enumerate(classes):
        hints = typing.get_type_hints(cls)
        fields = {f.name: _sample(hints[f.name], f.name, i) for f in dataclasses.fields(cls)}
        fields["originator_version"] = i + 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", fields)
        stored = mapper.to_stored_event(event)
        state = dict(vars(event))
        del state["originator_id"], state["originator_version"]
        assert FAST.encode(state) == stored.state, cls
        assert vars(Mapper(transcoder=FAST).to_domain_event(stored)) == vars(mapper.to_domain_event(stored)), cls


# ---- the events of real commands, and snapshots ---------------------------------------------


def test_the_events_and_snapshots_of_commands_are_written_and_read_alike():
    app = Scheduler(env={**POPO, "IS_SNAPSHOTTING_ENABLED": "y"})
    app.register_gateway("gw-1", name="Gâteway", location="Zürich", latitude=47.37, longitude=8.54)
    fields = {"name": "Poll ☃", "description": "a \"quoted\"\nline", "tags": ["a", "ü"], "type": "cron",
              "schedule": {"cron_expression": "*/5 * * * *", "timezone": "Europe/Zurich"},
              "action": {"type": "publish", "topic": "t/ü", "payload_template": "{\"n\": 1.25}", "qos": 1},
              "options": {"max_attempts": 3, "timeout_seconds": 2.5}}
    job_id = app.create_job("gw-1", fields, actor="alice").job.job_id
    app.update_job("gw-1", job_id, {"description": "second"}, actor="bob")
    app.toggle_job("gw-1", job_id, enabled=False, reason="maintenance", actor="bob")
    app.request_run("gw-1", job_id, parameters={"x": [1, {"y": "é"}]}, force=True, actor="carol")
    app.take_snapshot(job_uuid("gw-1", job_id))
    app.delete_job("gw-1", job_id, actor="bob")
    stored = list(app.recorder.select_notifications(start=None, limit=1000))
    snapshots = list(app.snapshots.recorder.select_events(job_uuid("gw-1", job_id)))  # type: ignore[union-attr]
    assert len(stored) >= 8 and snapshots
    for record in [*stored, *snapshots]:
        state = LIBRARY.decode(record.state)
        assert FAST.encode(state) == record.state, record.topic
        assert _typed(FAST.decode(record.state)) == _typed(state), record.topic
    assert app.job_ever("gw-1", job_id).deleted


# ---- values msgspec writes or reads otherwise: the library's own encoder and decoder ---------


class Colour(str, Enum):
    RED = "red"


@pytest.mark.parametrize("value", [
    1e-05, 1e16, -2.5e-07, 1.2345678901234568e17, float("inf"), float("-inf"), float("nan"), 5e-324,
    2**64, -(2**63) - 1, 10**30, {1: "int key"}, {None: 1, True: 2, 2.5: 3}, Colour.RED, {"c": Colour.RED},
    [[[[{"deep": AT}]]]], "\u2028\u2029\x7f\x00", "</script>", "", [], {}, (), {"": ""},
])
def test_awkward_values_are_written_and_read_alike(value):
    _same({"timestamp": AT, "value": value})


def test_what_neither_can_write_fails_in_both():
    class Unregistered:
        pass

    for transcoder in (LIBRARY, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"x": Unregistered()})
        with pytest.raises(UnicodeEncodeError):
            transcoder.encode({"x": "\ud800"})


@pytest.mark.parametrize("written", [
    b'{"a":NaN,"b":-Infinity}', b'{"a":1e400}', b'{"a":"\\ud800"}', b'{"a":1,"a":2}',
    b'{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00","x":1}', b'{"_type_":"x"}',
    b'[{"_type_":"uuid_hex","_data_":"' + uuid4().hex.encode() + b'"}]', b' {"a" : [ 1 , 2.0 ] } ',
])
def test_what_the_library_reads_is_read_alike(written):
    assert _typed(FAST.decode(written)) == _typed(LIBRARY.decode(written))


def test_an_unknown_transcoding_name_fails_in_both():
    for transcoder in (LIBRARY, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.decode(b'{"_type_":"nope","_data_":1}')


def test_ordinary_events_are_written_without_the_library_s_encoder(monkeypatch):
    """What the dispatcher writes thousands of a second takes the fast path (empty dicts, None,
    tuples, datetimes, ordinary floats), not the fallback."""
    expected = LIBRARY.encode(state := {"timestamp": AT, "parameters": {}, "details": {"resources": {"cpu_percent": 1.5}},
                                        "logs": [], "tags": ("a",), "request_id": None, "n": 3, "ok": True})

    def refuse(self: Any, obj: Any) -> bytes:
        raise AssertionError("fell back to the library's encoder")

    monkeypatch.setattr(JSONTranscoder, "encode", refuse)
    assert FAST.encode(state) == expected
