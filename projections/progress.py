"""How far each in-process projection has committed; wakes read-your-writes waiters at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable


class Progress:
    """The views call `advance` after each commit; command handlers `wait` for their position."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._positions: dict[str, int] = {}
        self._topics: dict[str, frozenset[str]] = {}
        self._released: set[str] = set()  # projections that cannot advance: nobody waits for them

    def register(self, name: str, topics: Iterable[str], position: int | None) -> None:
        with self._condition:
            self._topics[name] = frozenset(topics)
            self._positions[name] = max(position or 0, self._positions.get(name, 0))

    def unregister(self, name: str) -> None:
        with self._condition:
            self._topics.pop(name, None)
            self._positions.pop(name, None)
            self._condition.notify_all()

    def advance(self, name: str, position: int) -> None:
        with self._condition:
            if position > self._positions.get(name, 0):
                self._positions[name] = position
                self._condition.notify_all()

    def release(self, name: str, released: bool) -> None:
        """While a projection cannot apply an event, waiting for it would only time out."""
        with self._condition:
            if released:
                self._released.add(name)
            else:
                self._released.discard(name)
            self._condition.notify_all()

    def position(self, name: str) -> int:
        with self._condition:
            return self._positions.get(name, 0)

    def _targets(self, recorded: Iterable[tuple[str, int]]) -> dict[str, int]:
        """For each projection, the highest recorded position among the topics it follows."""
        targets: dict[str, int] = {}
        for topic, position in recorded:
            for name, interested in self._topics.items():
                if not interested or topic in interested:
                    targets[name] = max(position, targets.get(name, 0))
        return targets

    def wait(self, recorded: Iterable[tuple[str, int]], timeout: float = 5.0) -> bool:
        """Block until every projection has committed the recorded (topic, position) pairs it
        follows (but none that cannot advance, see `release`). Returns False on timeout (the
        caller answers anyway: the write is durable)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            targets = self._targets(recorded)
            while any(
                self._positions.get(name, position) < position and name not in self._released
                for name, position in targets.items()
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True
