"""Plain-English pieces for schedule descriptions; cron text comes from cron-descriptor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from cron_descriptor import ExpressionDescriptor, Options

_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def every_seconds(seconds: int) -> str:
    """"Every 10 seconds", "Every hour", "Every 2 days"."""
    for size, unit in _UNITS:
        if seconds % size == 0:
            count = seconds // size
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    raise AssertionError("unreachable: every integer is a whole number of seconds")


def join_words(words: Sequence[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def at_time(value: time, zone_name: str) -> str:
    """"at 08:30 (Europe/Berlin)"."""
    clock = value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return f"at {clock} ({zone_name})"


def cron_text(expression: str, zone_name: str) -> str:
    """cron-descriptor's English for a (seconds-first when 6-field) expression, plus the zone."""
    options = Options()
    options.throw_exception_on_parse_error = False
    text = ExpressionDescriptor(expression, options).get_description()
    return text if zone_name == "UTC" else f"{text} ({zone_name})"


def minutes_phrase(minutes: int) -> str:
    return "1 minute" if abs(minutes) == 1 else f"{abs(minutes)} minutes"
