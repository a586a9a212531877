"""Wire request types (msgspec): unknown fields and wrong types are refused at the edge.

Bodies are decoded here, strictly, from the raw bytes: Litestar converts a `JSONBody` with
msgspec's lax rules (`strict=False`, for query strings), which took `"enabled": 0` for false and
`"10"` for 10."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec

from domain.errors import ValidationFailed

T = TypeVar("T")
_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}
_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def decode_body(body: bytes, kind: type[T]) -> T:
    """`body` as a `kind`, strictly (no coercion); VALIDATION_ERROR naming the field otherwise."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS.setdefault(kind, msgspec.json.Decoder(kind))
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        text = str(error)
        found = _AT.search(text)
        field = found.group("path") if found else "body"
        raise ValidationFailed(f"Request validation failed: {text}", {"field": field or "body", "reason": text}) from None
    except msgspec.DecodeError as error:
        raise ValidationFailed("The body is not valid JSON", {"field": "body", "reason": str(error)}) from None

Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class CreateJobRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text
    type: Text
    schedule: dict[str, Any]
    action: dict[str, Any]
    description: Text = ""
    enabled: bool = True
    gateway_id: Text | None = None
    tags: list[Text] = msgspec.field(default_factory=list)
    options: dict[str, Any] | None = None
    id: Text | None = None
    check_conflicts: bool = False  # refuse with SCHEDULE_CONFLICT instead of saving (docs/api.md)


class UpdateJobRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text | None = None
    description: Text | None = None
    type: Text | None = None
    enabled: bool | None = None
    gateway_id: Text | None = None
    schedule: dict[str, Any] | None = None
    action: dict[str, Any] | None = None
    tags: list[Text] | None = None
    options: dict[str, Any] | None = None
    version: int | None = None
    check_conflicts: bool = False


class RunJobRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    force: bool = False
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)


class ToggleJobRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    enabled: bool
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
