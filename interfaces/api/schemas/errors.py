"""The error envelope, one struct per HTTP status with the codes that status carries."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from interfaces.errors import STATUS

# Beyond the contract's table (DESIGN.md), the routing layer's own refusals.
CODES_BY_STATUS: dict[int, tuple[str, ...]] = {}
for _code, _status in STATUS.items():
    CODES_BY_STATUS.setdefault(_status, ())
    CODES_BY_STATUS[_status] += (_code,)

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           409: "Conflict", 413: "PayloadTooLarge", 429: "TooManyRequests", 500: "InternalError",
           503: "Unavailable"}


def _error_envelope(status: int) -> type[msgspec.Struct]:
    codes = CODES_BY_STATUS[status]
    body = msgspec.defstruct(
        f"{REASONS[status]}Error", [("code", Literal[codes]), ("details", Any)], module=__name__  # type: ignore[valid-type]
    )
    return msgspec.defstruct(
        f"{REASONS[status]}Answer",
        [("success", Literal[False]), ("message", str), ("error", body)], module=__name__,
    )


ERROR_ENVELOPES: dict[int, type[msgspec.Struct]] = {status: _error_envelope(status) for status in sorted(CODES_BY_STATUS)}
