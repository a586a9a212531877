"""A few threads that run the routes' blocking reads and hand each answer back to the event loop."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the request may have been cancelled (the client went away)
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class ReadThreads:
    """`loop.run_in_executor` without concurrent.futures: a read goes on a queue, a thread runs it
    and sets the awaiting asyncio future through `call_soon_threadsafe`. The executor's hand-off
    built a concurrent Future (a Condition and its lock) per call and chained it to an asyncio one
    through two callbacks and a state copy: 21 -> 10 us of the event loop's CPU a read
    (docs/decisions.md 312). Daemon threads, started on first use: a read in flight at exit is
    abandoned with its process."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[..., Any],
                                             tuple[Any, ...]]] = queue.SimpleQueue()
        self._started = False
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`fn(*args)` on one of the threads; await the returned future for its result or error."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, future, fn, args))
        return future

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            for i in range(self._size):
                threading.Thread(target=self._work, name=f"{self._name}_{i}", daemon=True).start()
            self._started = True

    def _work(self) -> None:
        while True:
            loop, future, fn, args = self._queue.get()
            try:
                result = fn(*args)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting request as it is
                try:
                    loop.call_soon_threadsafe(_fail, future, error)
                except RuntimeError:  # the loop has closed: nobody awaits it any more
                    pass
                continue
            try:
                loop.call_soon_threadsafe(_resolve, future, result)
            except RuntimeError:
                pass
