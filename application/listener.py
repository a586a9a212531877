"""One LISTEN connection per recorder, shared by all its subscriptions (docs/decisions.md 326).

The library gives every subscription a thread and a pooled connection of its own that LISTENs: with
six projections and a dispatcher feed per process, each commit's NOTIFY was delivered to seven
sessions and woke seven threads, each to find out whether it concerned it. Here one thread reads
the channel and wakes only the subscriptions a NOTIFY may concern (`concerns`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from psycopg.sql import SQL, Identifier

_log = logging.getLogger(__name__)

Concerns = Callable[[str], bool]  # whether a NOTIFY payload may concern a subscriber


class Subscriber:
    """What the listener needs of a subscription: whether a payload concerns it, how to wake it
    (to pull), and how to hand it the listener's failure."""

    def __init__(self, concerned: Concerns, wake: Callable[[], None], fail: Callable[[BaseException], None]) -> None:
        self.concerned, self.wake, self.fail = concerned, wake, fail


class SharedListener:
    """The thread runs while there are subscribers: the first to join starts it, and it ends (its
    connection back to the pool) once the last has left; a later one starts it again. Every
    subscriber is woken once the LISTEN is in place (at once, when it joins a listener already
    in place), so that its pull after that misses nothing committed before; every NOTIFY after
    is handed to the subscribers joined when it arrives. A broken connection fails every current subscriber, as the library's own
    listener fails its subscription."""

    def __init__(self, datastore: Any, channel: str) -> None:
        self._datastore = datastore
        self._channel = channel
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._thread: threading.Thread | None = None
        self._listening = False

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def join(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)
            if self._thread is None:
                self._listening = False
                self._thread = threading.Thread(target=self._run, name=f"listen-{self._channel}", daemon=True)
                self._thread.start()
                return
            listening = self._listening
        if listening:
            subscriber.wake()

    def leave(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def _joined(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subscribers)

    def _current(self) -> list[Subscriber] | None:
        """The subscribers, or None (and the thread forgotten) when none is left."""
        with self._lock:
            if not self._subscribers:
                self._thread = None
                return None
            return list(self._subscribers)

    def _run(self) -> None:
        try:
            with self._datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self._channel)))
                with self._lock:
                    self._listening = True
                    woken = list(self._subscribers)
                for subscriber in woken:
                    subscriber.wake()
                while self._current() is not None:
                    # At most 0.1 s per wait, so that the last subscriber's leaving ends the thread soon.
                    for notify in conn.notifies(timeout=0.1, stop_after=1):
                        # The subscribers as they are now, not as they were when the wait began: one
                        # that joined during it (woken then, its pull done) must hear this commit.
                        for subscriber in self._joined():
                            if subscriber.concerned(notify.payload):
                                subscriber.wake()
                conn.execute(SQL("UNLISTEN {0}").format(Identifier(self._channel)))
        except BaseException as error:  # noqa: BLE001 - handed to every subscriber, as the library's listener does
            with self._lock:
                failed, self._subscribers = self._subscribers, []
                self._thread = None
            _log.warning("the LISTEN connection of %s failed: %r", self._channel, error)
            for subscriber in failed:
                subscriber.fail(error)
