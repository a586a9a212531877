"""What every JSON body of the API must satisfy before any route reads it: no NUL character.

PostgreSQL's text and jsonb cannot hold NUL (U+0000), so a value carrying one could be recorded in
the event log and then never reach a read model. It is refused anywhere in the body (nested
strings and object keys included) with VALIDATION_ERROR, before the body is decoded for a route."""

from __future__ import annotations

import re

from domain.errors import ValidationFailed

# `\u0000` escapes NUL unless its backslash is itself escaped (an even run of backslashes before
# it). A raw NUL byte is not valid JSON at all and is refused by the decoder.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def refuse_nul(body: bytes) -> None:
    if b"\\u0000" in body and _ESCAPED_NUL.search(body):
        raise ValidationFailed(
            "The body must not contain NUL characters (\\u0000), in no string and no key",
            {"field": "body", "reason": "NUL character"},
        )
