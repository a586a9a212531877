"""Fixtures of the API suite: a second gateway context, the event log's head, a lowered job limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api


@pytest.fixture
def other_api(http: Any) -> Api:
    """An operator client bound to a second fresh gateway (same '*' token)."""
    return Api(http, f"gw-{uuid.uuid4().hex[:10]}")


class EventLog:
    """The head of the event store, to check that a refused command recorded no event."""

    def __init__(self, runtime: Any) -> None:
        self._recorder = runtime.app.recorder

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0


@pytest.fixture
def event_log(runtime: Any) -> EventLog:
    return EventLog(runtime)


@pytest.fixture
def max_jobs_two(runtime: Any) -> Iterator[int]:
    """Lowers the per-gateway job limit to 2 for one test."""
    saved = runtime.app.max_jobs
    runtime.app.max_jobs = 2
    try:
        yield 2
    finally:
        runtime.app.max_jobs = saved
