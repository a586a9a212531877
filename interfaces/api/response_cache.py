"""Encoded answers of read-model queries, reused while the projection they read has not moved:
the cache key includes the projection's committed position, so a write invalidates it at once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class ResponseCache:
    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

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
