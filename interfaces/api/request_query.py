"""What every query string of the API must satisfy before any route reads it: each parameter at
most once. Every query parameter of the API is a single value (lists, like `tags`, are one
comma-separated value, as the contract says), so a repeated one is refused with VALIDATION_ERROR
rather than silently reduced to one of its values."""

from __future__ import annotations

from collections.abc import Iterable

from domain.errors import ValidationFailed


def refuse_repeated(keys: Iterable[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValidationFailed(
                f"Query parameter {key!r} is given more than once; lists are one comma-separated value",
                {"field": key, "reason": "repeated"},
            )
        seen.add(key)
