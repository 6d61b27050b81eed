"""A zero-copy reader of the CBOR subset Stream V2 messages use, for the receiver's hot path.

cbor2 copies every byte string out of a message (a 2.8 MB payload of an EIGER2 4M frame: one
copy, after the one that turns the ZeroMQ frame into ``bytes``, since cbor2 reads a memoryview
ten times slower). Here byte strings come back as memoryview slices of the message itself,
so a payload goes from the socket's buffer to ``pwrite`` without a copy in between.

It reads definite-length items: integers, byte and text strings, arrays, maps with text or
integer keys, false/true/null, half/single/double floats, and tags (0 and 1 as datetimes, the
stream's own through the same hook as cbor2's). Anything else (indefinite lengths, undefined,
simple values, other tags, other map keys) raises ``UnhandledItemError`` and the caller decodes the
message with cbor2 instead; malformed input (truncated, too deep, bad UTF-8) is a
``MessageError``. Tests hold it against cbor2 on generated messages.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from typing import Final

from h5swmr.errors import MessageError

MAX_DEPTH: Final = 64
_FLOATS: Final = {25: struct.Struct(">e"), 26: struct.Struct(">f"), 27: struct.Struct(">d")}
_SIMPLE: Final = {20: False, 21: True, 22: None}


class UnhandledItemError(Exception):
    """An item outside the subset: decode the message with cbor2."""


TagHook = Callable[[int, object], object]


class _Reader:
    __slots__ = ("hook", "pos", "view")

    def __init__(self, view: memoryview, hook: TagHook) -> None:
        self.view = view
        self.pos = 0
        self.hook = hook

    def _take(self, size: int) -> memoryview:
        start, end = self.pos, self.pos + size
        if end > len(self.view):
            raise MessageError(f"CBOR item of {size} bytes runs past the message's end")
        self.pos = end
        return self.view[start:end]

    def _argument(self, info: int) -> int:
        if info < 24:
            return info
        if info == 24:
            return self._take(1)[0]
        if info in (25, 26, 27):
            return int.from_bytes(self._take(1 << (info - 24)), "big")
        raise UnhandledItemError("indefinite length or reserved")

    def item(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise MessageError(f"CBOR nested deeper than {MAX_DEPTH}")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 31
        if major == 7:
            return self._simple(info)
        arg = self._argument(info)
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self._take(arg)
        if major == 3:
            try:
                return str(self._take(arg), "utf-8")
            except UnicodeDecodeError as exc:
                raise MessageError(f"CBOR text string is not UTF-8: {exc}") from None
        if major in (4, 5) and arg > len(self.view) - self.pos:  # each item takes a byte
            raise MessageError(f"CBOR container of {arg} items runs past the message's end")
        if major == 4:
            return [self.item(depth + 1) for _ in range(arg)]
        if major == 5:
            result: dict[object, object] = {}
            for _ in range(arg):
                key = self.item(depth + 1)
                if not isinstance(key, str | int):
                    raise UnhandledItemError("map key")
                result[key] = self.item(depth + 1)
            return result
        return self._tag(arg, self.item(depth + 1))

    def _simple(self, info: int) -> object:
        if info in _SIMPLE:
            return _SIMPLE[info]
        layout = _FLOATS.get(info)
        if layout is None:
            raise UnhandledItemError("simple value")
        return float(layout.unpack(self._take(layout.size))[0])

    def _tag(self, number: int, value: object) -> object:
        if number == 0:
            if not isinstance(value, str):
                raise MessageError("CBOR tag 0: a date/time must be a text string")
            try:
                return datetime.datetime.fromisoformat(value)
            except ValueError as exc:
                raise MessageError(f"CBOR tag 0: {exc}") from None
        if number == 1:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise MessageError("CBOR tag 1: an epoch time must be a number")
            try:
                return datetime.datetime.fromtimestamp(value, datetime.UTC)
            except (OverflowError, OSError, ValueError) as exc:
                raise MessageError(f"CBOR tag 1: {exc}") from None
        return self.hook(number, value)


def read(message: memoryview, hook: TagHook) -> object:
    """The one data item ``message`` holds; ``hook(tag, value)`` builds tagged items and raises
    ``UnhandledItemError`` for tags it does not know."""
    reader = _Reader(message.cast("B") if message.format != "B" else message, hook)
    value = reader.item(0)
    if reader.pos != len(message):
        raise MessageError(f"{len(message) - reader.pos} bytes after the CBOR message")
    return value
