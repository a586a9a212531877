"""The worker's resource sampler: every `every` seconds it reads CPU, memory and disk use (percent)
and reports them to the gateway's ResourceMonitor through the commit point; the aggregate records an
alert when a reading crosses its threshold and a clear when it falls back (with hysteresis,
domain/resources.py). The readings come from an injected source: psutil in the worker, a fixed
sequence in unit tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from application.commands import CommandContext, ObserveResources

_log = logging.getLogger(__name__)
Readings = Callable[[], Mapping[str, float]]


def psutil_readings(disk_path: Path) -> Readings:
    """CPU (system-wide, since the previous call), memory and the disk holding `disk_path`, in percent."""
    psutil.cpu_percent(interval=None)  # the first call only starts the measurement

    def read() -> dict[str, float]:
        return {
            "cpu": psutil.cpu_percent(interval=None),
            "memory": psutil.virtual_memory().percent,
            "disk": psutil.disk_usage(str(disk_path)).percent,
        }

    return read


class ResourceSampler:
    def __init__(self, app: Any, gateway_id: str, read: Readings, thresholds: Mapping[str, float], margin: float,
                 every: float) -> None:
        self.app, self.gateway_id, self.read = app, gateway_id, read
        self.thresholds = tuple(sorted(thresholds.items()))
        self.margin, self.every = margin, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"resources/{gateway_id}", daemon=True)

    def sample_once(self) -> tuple[tuple[str, int], ...]:
        """One reading reported; returns what it recorded ((topic, position) of each event, often none)."""
        readings = tuple(sorted((name, float(value)) for name, value in self.read().items()))
        command = ObserveResources(self.gateway_id, readings, self.thresholds, self.margin)
        return self.app.execute(command, CommandContext(f"worker/{self.gateway_id}", None)).recorded

    def start(self) -> ResourceSampler:
        if self.every > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sample_once()
            except Exception:  # noqa: BLE001 - a lost database or a failed read: try again next time
                _log.warning("resource sampling failed; retrying in %.0f s", self.every, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
