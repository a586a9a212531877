"""The stored events' JSON, encoded and decoded by msgspec: byte for byte what eventsourcing's
JSONTranscoder writes with the same registered transcodings (docs/decisions.md 200), at a
fraction of its cost (the standard library's encoder calls back into Python for every datetime).

Values are first turned into plain JSON values, each registered type into the library's
{"_type_": name, "_data_": ...} form; msgspec then writes them. Where msgspec would write a value
differently from the standard library, or might (a float in exponent notation or not finite, a
subclass of a JSON type, a dict key that is not a str), the whole object is encoded by the
library's own encoder instead, so the bytes never differ. Decoding reads what either wrote; what
msgspec refuses (NaN, a lone surrogate) is read by the library's decoder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

_JSON_TYPES = (str, int, float, list, tuple, dict)  # and bool, None: what the library writes natively
_STR = {str}
_SAME = frozenset({str, int, bool, type(None)})  # written alike by both encoders as they are


class _Unusual(Exception):
    """A value this encoder leaves to the library's."""


def _float(o: float) -> float:
    # repr() (the standard library's) and msgspec agree on every finite float written without an
    # exponent; repr uses one below 1e-4 and from 1e16.
    if o == 0.0 or 1e-4 <= abs(o) < 1e16:
        return o
    raise _Unusual


def _unusual(o: Any) -> Any:
    raise _Unusual


# The library's own transcodings, whose encoded form is a str: written here without a call through them.
_AS_STR = {DatetimeAsISO: datetime.isoformat, UUIDAsHex: lambda o: o.hex, DecimalAsStr: str}


class FastJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        self._convert: dict[type, Callable[[Any], Any]] = {
            dict: self._dict, list: self._list, tuple: self._list, float: _float,
        }
        super().__init__()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        kind = transcoding.type
        if issubclass(kind, _JSON_TYPES):  # the library writes it as its JSON base type, never through it
            self._convert[kind] = _unusual
            return
        name, as_str = transcoding.name, _AS_STR.get(type(transcoding))
        if as_str is not None:
            self._convert[kind] = lambda o: {"_type_": name, "_data_": as_str(o)}
        else:
            self._convert[kind] = lambda o: {"_type_": name, "_data_": self._value(transcoding.encode(o))}

    def encode(self, obj: Any) -> bytes:
        try:
            return self._encoder.encode(self._value(obj))
        except (_Unusual, RecursionError):
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            obj = self._decoder.decode(data)
        except (msgspec.DecodeError, UnicodeError):
            return super().decode(data)
        return self._revive(obj)

    # ---- to the values msgspec writes as the standard library's encoder would ------------------

    def _value(self, o: Any) -> Any:
        t = type(o)
        return o if t in _SAME else self._convert.get(t, _unusual)(o)

    def _dict(self, o: dict[Any, Any]) -> dict[str, Any]:
        if not o:
            return o
        if {*map(type, o)} - _STR:  # the library writes some other keys as str
            raise _Unusual
        convert, out = self._convert, dict(o)
        for k, v in o.items():
            if type(v) not in _SAME:
                out[k] = convert.get(type(v), _unusual)(v)
        return out

    def _list(self, o: list[Any] | tuple[Any, ...]) -> list[Any]:
        convert = self._convert
        return [v if type(v) in _SAME else convert.get(type(v), _unusual)(v) for v in o]

    def _revive(self, o: Any) -> Any:
        """As the library's object hook, innermost objects first: each {"_type_", "_data_"} pair
        becomes its registered type's value."""
        if type(o) is dict:
            for k, v in o.items():
                if type(v) is dict or type(v) is list:
                    o[k] = self._revive(v)
            if len(o) == 2 and "_type_" in o and "_data_" in o:
                try:
                    transcoding = self.names[o["_type_"]]
                except KeyError as e:
                    msg = (f"Data serialized with name '{o['_type_']}' is not deserializable. "
                           "Please register a custom transcoding for this type.")
                    raise TranscodingNotRegisteredError(msg) from e
                return transcoding.decode(o["_data_"])
            return o
        if type(o) is list:
            for i, v in enumerate(o):
                if type(v) is dict or type(v) is list:
                    o[i] = self._revive(v)
        return o
