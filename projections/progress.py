"""How far each in-process projection has committed; wakes read-your-writes waiters at once."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Waiter:
    targets: dict[str, int]
    woken: threading.Event = field(default_factory=threading.Event)


class Progress:
    """The views call `advance` after each commit; command handlers `wait` for their position.
    A commit wakes only the waiters it satisfies (each has an event of its own), rather than every
    waiting thread at every view's commit to re-check its positions (64 callers, six views)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[_Waiter] = []
        self._positions: dict[str, int] = {}
        self._topics: dict[str, frozenset[str]] = {}
        self._released: set[str] = set()  # projections that cannot advance: nobody waits for them

    def register(self, name: str, topics: Iterable[str], position: int | None) -> None:
        with self._lock:
            self._topics[name] = frozenset(topics)
            self._positions[name] = max(position or 0, self._positions.get(name, 0))
            self._wake()

    def unregister(self, name: str) -> None:
        with self._lock:
            self._topics.pop(name, None)
            self._positions.pop(name, None)
            self._wake()

    def advance(self, name: str, position: int) -> None:
        with self._lock:
            if position > self._positions.get(name, 0):
                self._positions[name] = position
                self._wake()

    def release(self, name: str, released: bool) -> None:
        """While a projection cannot apply an event, waiting for it would only time out."""
        with self._lock:
            if released:
                self._released.add(name)
            else:
                self._released.discard(name)
            self._wake()

    def position(self, name: str) -> int:
        with self._lock:
            return self._positions.get(name, 0)

    def _targets(self, recorded: Iterable[tuple[str, int]]) -> dict[str, int]:
        """For each projection, the highest recorded position among the topics it follows."""
        targets: dict[str, int] = {}
        for topic, position in recorded:
            for name, interested in self._topics.items():
                if not interested or topic in interested:
                    targets[name] = max(position, targets.get(name, 0))
        return targets

    def _reached(self, targets: dict[str, int]) -> bool:
        return all(
            self._positions.get(name, position) >= position or name in self._released
            for name, position in targets.items()
        )

    def _wake(self) -> None:
        """Under the lock: wake every waiter whose positions are all reached."""
        if self._waiters:
            reached = [w for w in self._waiters if self._reached(w.targets)]
            for waiter in reached:
                waiter.woken.set()
                self._waiters.remove(waiter)

    def wait(self, recorded: Iterable[tuple[str, int]], timeout: float = 5.0) -> bool:
        """Block until every projection has committed the recorded (topic, position) pairs it
        follows (but none that cannot advance, see `release`). Returns False on timeout (the
        caller answers anyway: the write is durable)."""
        with self._lock:
            targets = self._targets(recorded)
            if self._reached(targets):
                return True
            waiter = _Waiter(targets)
            self._waiters.append(waiter)
        if waiter.woken.wait(timeout):
            return True
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return self._reached(targets)
