"""The bounded log an execution writes: lines kept, lines and characters capped, truncation noted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_MAX_LINES = 200
DEFAULT_MAX_LINE_CHARS = 500
_ELLIPSIS = "... [truncated]"


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    level: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        stamp = self.timestamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"timestamp": stamp, "level": self.level, "message": self.message}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ExecutionLog:
    """Collects at most `max_lines` lines (the last one noting any drop), each at most `max_line_chars`."""

    def __init__(
        self,
        max_lines: int = DEFAULT_MAX_LINES,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if max_lines < 2 or max_line_chars < len(_ELLIPSIS) + 1:
            raise ValueError("log bounds too small")
        self._max_lines = max_lines
        self._max_line_chars = max_line_chars
        self._clock = clock
        self._lines: list[LogLine] = []
        self._dropped = 0
        self._lock = threading.Lock()

    def info(self, message: str) -> None:
        self.add("info", message)

    def error(self, message: str) -> None:
        self.add("error", message)

    def add(self, level: str, message: str) -> None:
        if len(message) > self._max_line_chars:
            message = message[: self._max_line_chars - len(_ELLIPSIS)] + _ELLIPSIS
        with self._lock:
            if len(self._lines) < self._max_lines:
                self._lines.append(LogLine(self._clock(), level, message))
            else:
                self._dropped += 1

    @property
    def lines(self) -> list[LogLine]:
        """The lines kept; past the bound, the last slot becomes a note of how many were dropped."""
        with self._lock:
            lines = list(self._lines)
            dropped = self._dropped
        if not dropped:
            return lines
        kept = lines[: self._max_lines - 1]
        note = f"log truncated: {dropped + 1} more lines dropped"
        return [*kept, LogLine(self._clock(), "warning", note)]
