"""Version 1 object headers, libhdf5's default format (spec §IV.A.1.a; libhdf5 H5Ocache.c).

A 16-byte prefix (version 1, reserved, message count, reference count, chunk-0 size, 4 bytes of
alignment), then messages with 8-byte headers (type u16, size u16, flags, 3 reserved bytes), each
body padded to a multiple of 8. Continuation chunks hold only messages: no signature, no checksum.
Neither part is checksummed, so a torn read cannot be detected.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.object_header import RawMessage

VERSION = 1
_PREFIX = struct.Struct("<BBHII4x")  # version, reserved, messages, reference count, chunk-0 size
_MESSAGE_HEADER = struct.Struct("<HHB3x")  # type, body size, flags, reserved
_WHAT = "object header v1"
_ALIGNMENT = 8
"""Message bodies, and so chunks, are multiples of 8 bytes (H5O_ALIGN_OLD; libhdf5 refuses
others: "message not aligned")."""


@dataclass(frozen=True, slots=True)
class ObjectHeaderV1:
    """The prefix of a version 1 object header; chunk 0 starts right after it."""

    PREFIX_SIZE: ClassVar[int] = _PREFIX.size

    n_messages: int
    reference_count: int
    chunk_size: int

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        version, _, n_messages, refcount, chunk_size = ByteCursor(buf, _WHAT).unpack(_PREFIX)
        if version != VERSION:
            raise FormatError(
                f"{_WHAT}: version {version} at address {address}, expected 1",
                structure=_WHAT,
                address=address,
            )
        return cls(n_messages, refcount, chunk_size)


def is_v1_header(buf: BytesLike) -> bool:
    """True when ``buf`` starts like a version 1 header (v2 headers start with ``OHDR``)."""
    return len(buf) > 0 and buf[0] == VERSION


def decode_messages_v1(buf: BytesLike, what: str = _WHAT) -> tuple[RawMessage, ...]:
    """The messages of one v1 chunk (chunk 0 without its prefix, or a continuation chunk).

    The chunk must hold whole messages, back to back, to its last byte.
    """
    cur = ByteCursor(buf, what)
    messages = []
    while cur.remaining:
        if cur.remaining < _MESSAGE_HEADER.size:
            raise FormatError(f"{what}: {cur.remaining} bytes left after the last message")
        msg_type, size, flags = cur.unpack(_MESSAGE_HEADER)
        if size % _ALIGNMENT:
            raise FormatError(f"{what}: message of type {msg_type} not aligned ({size} bytes)")
        if size > cur.remaining:
            raise FormatError(f"{what}: message of type {msg_type} runs past its chunk")
        body = cur.read(size)
        if msg_type != MessageType.NIL:
            messages.append(RawMessage(msg_type, body, flags))
    return tuple(messages)
