"""Starts recorded runs at their instants: the dispatcher records fires a little ahead (so the
commit is not in front of the action) and hands them here; a thread hands each batch of runs
due at the same moment to `launch` on time."""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from application.clock import Clock

_log = logging.getLogger(__name__)


class Launcher:
    def __init__(self, clock: Clock, launch: Callable[[list[Any]], None], name: str) -> None:
        self.clock = clock
        self._launch = launch
        self._armed: list[tuple[datetime, int, Any]] = []
        self._cv = threading.Condition()
        self._seq = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"launch-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        self._thread.join(timeout=5)

    def arm(self, items: list[tuple[datetime, Any]]) -> None:
        """Each item is (instant, run); `launch([run, ...])` is called at the instant (at once if past)."""
        with self._cv:
            for at, run in items:
                self._seq += 1
                heapq.heappush(self._armed, (at, self._seq, run))
            self._cv.notify()

    def _next_ready(self) -> list[Any]:
        with self._cv:
            while not self._stopping:
                wait = (self._armed[0][0] - self.clock()).total_seconds() if self._armed else 1.0
                if self._armed and wait <= 0:
                    break
                self._cv.wait(wait)
            now = self.clock()
            ready = []
            while self._armed and self._armed[0][0] <= now and not self._stopping:
                ready.append(heapq.heappop(self._armed)[2])
            return ready

    def clear(self) -> list[Any]:
        """Forget every armed run (leadership ended); returns them."""
        with self._cv:
            runs = [run for _, _, run in self._armed]
            self._armed.clear()
            return runs

    def _run(self) -> None:
        while not self._stopping:
            ready = self._next_ready()
            if ready:
                self._launch(ready)


class Workers:
    """Up to `size` threads, started as calls need them, each running the calls handed to it in
    order: ThreadPoolExecutor without its Future per call (a condition variable and a lock built,
    set and notified for every run; nothing here waits for a run's result), a fifth of the launch
    thread's CPU per fire (docs/decisions.md 203)."""

    def __init__(self, size: int, name: str) -> None:
        self._size, self._name = size, name
        self._calls: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a call, not yet claimed by one handed over
        self._threads: list[threading.Thread] = []

    def submit(self, call: Callable[..., None], *args: Any) -> None:
        self._calls.put((call, args))
        with self._lock:
            if self._idle:
                self._idle -= 1
                return
            if len(self._threads) >= self._size:
                return  # taken by the next thread to finish
            thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
            self._threads.append(thread)
        thread.start()

    def shutdown(self) -> None:
        """The calls handed over run, then the threads end."""
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._calls.put(None)
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            call, args = item
            try:
                call(*args)
            except Exception:  # noqa: BLE001 - a failed call must not end the thread
                _log.exception("a call in %s failed", self._name)
            with self._lock:
                self._idle += 1
