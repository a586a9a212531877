"""Encoded answers of read-model queries, reused while the projection they read has not moved:
the cache key includes the projection's committed position, so a write invalidates it at once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, get_type_hints
from urllib.parse import parse_qsl

from litestar.constants import RESERVED_KWARGS
from litestar.di import Dependency
from litestar.params import (
    CookieParameter,
    DependencyKwarg,
    HeaderParameter,
    ParameterKwarg,
    PathParameter,
)

PageKey = tuple[str, tuple[tuple[str, str], ...]]


def query_parameters(handler: Callable[..., Any]) -> frozenset[str]:
    """The query parameters a handler takes, under their aliases: every parameter Litestar would
    read from the query string (all but reserved names, dependencies and path, header or cookie
    parameters), so one added without a marker still counts; the handler's own list, never a copy."""
    names = set()
    for name, hint in get_type_hints(handler, include_extras=True).items():
        markers = getattr(hint, "__metadata__", ())
        if name in ("self", "return") or name in RESERVED_KWARGS:
            continue
        if any(isinstance(m, (Dependency, DependencyKwarg)) for m in markers):
            continue
        if any(isinstance(m, (PathParameter, HeaderParameter, CookieParameter)) for m in markers):
            continue
        alias = next((m.name for m in markers if isinstance(m, ParameterKwarg) and m.name), None)
        names.add(alias or name)
    return frozenset(names)


def page_key(gateway_id: str, query_string: bytes, parameters: frozenset[str]) -> PageKey:
    """The cache key of a page: the gateway and the route's own query parameters, sorted (others
    are ignored by the route, so they must not make entries of their own)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return gateway_id, tuple(sorted(p for p in pairs if p[0] in parameters))


class ResponseCache:
    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    @property
    def keeps(self) -> bool:
        """False when sized 0 (SCHEDULER_LIST_CACHE_PAGES=0): callers need not build keys."""
        return self._size > 0

    def get(self, key: Hashable, position: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != position:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, position: int, body: bytes) -> None:
        """`position` must be read before the query ran, so the body is at least that fresh."""
        with self._lock:
            self._entries[key] = (position, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
