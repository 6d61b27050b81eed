"""Version 2 object headers: the OHDR chunk 0 and OCHK continuation blocks (spec §IV.A.1.b).

libhdf5 sources: H5Ocache.c (H5O__prefix_deserialize, H5O__chunk_deserialize), H5Opkg.h.
A header is written with a fixed chunk-0 size for the object's whole life: the dims of a streaming
dataset are rewritten in place, so the encoder pads the messages with one NIL message to that size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntFlag
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.checksum import seal, verified
from h5swmr.format.constants import CHECKSUM_SIZE, MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

SIGNATURE = b"OHDR"
CONTINUATION_SIGNATURE = b"OCHK"
MESSAGE_HEADER_SIZE = 4
"""Type (1), size (2) and flags (1); a header that tracks creation order adds 2 more."""

_MESSAGE_HEADER = struct.Struct("<BHB")
_PREFIX = struct.Struct("<4sBBI")  # signature, version, flags, 4-byte chunk-0 size


class ObjectHeaderFlags(IntFlag):
    """Flags byte of the OHDR prefix."""

    SIZE_WIDTH_MASK = 0x03
    ATTR_CREATION_ORDER_TRACKED = 0x04
    ATTR_CREATION_ORDER_INDEXED = 0x08
    ATTR_PHASE_CHANGE_STORED = 0x10
    TIMES_STORED = 0x20


_KNOWN_FLAGS = 0x3F


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as stored: its type, flags and undecoded body."""

    type: int
    body: bytes
    flags: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF or not 0 <= self.flags <= 0xFF:
            raise FormatError(
                f"object header message: type {self.type} and flags {self.flags} must fit a byte",
                structure="object header",
            )
        if len(self.body) > 0xFFFF:
            raise FormatError(
                f"object header message of type {self.type}: {len(self.body)} bytes, "
                "at most 65535 fit",
                structure="object header",
            )

    @property
    def size(self) -> int:
        """Bytes this message takes in a chunk, its 4-byte header included."""
        return MESSAGE_HEADER_SIZE + len(self.body)

    def encode(self) -> bytes:
        return _MESSAGE_HEADER.pack(self.type, len(self.body), self.flags) + self.body


def message_bytes(messages: tuple[RawMessage, ...]) -> int:
    """Bytes that ``messages`` take in a chunk, headers included."""
    return sum(m.size for m in messages)


def _pad(messages: tuple[RawMessage, ...], chunk_size: int, what: str) -> bytes:
    used = message_bytes(messages)
    spare = chunk_size - used
    if spare < 0 or 0 < spare < MESSAGE_HEADER_SIZE:
        raise FormatError(
            f"{what}: {used} bytes of messages do not fit a chunk of {chunk_size} bytes "
            f"padded with one NIL message",
            structure=what,
        )
    parts = [m.encode() for m in messages]
    if spare:
        parts.append(RawMessage(MessageType.NIL, bytes(spare - MESSAGE_HEADER_SIZE)).encode())
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class ObjectHeader:
    """OHDR chunk 0 with a 4-byte size field and no times, as h5swmr writes it.

    ``chunk_size`` is the message area in bytes; whatever ``messages`` leave free is one NIL
    message. Decoding also accepts what libhdf5 writes (times, 1/2/8-byte sizes, creation order).
    """

    VERSION: ClassVar[int] = 2
    PREFIX_SIZE: ClassVar[int] = _PREFIX.size
    WRITE_FLAGS: ClassVar[int] = 0x02
    FIRST_MESSAGE_OFFSET: ClassVar[int] = _PREFIX.size + MESSAGE_HEADER_SIZE
    """Where the body of the first message starts in a header h5swmr encodes (WRITE_FLAGS: no
    times, a 4-byte chunk size): the dataspace of a dataset, whose dims are patched in place."""

    messages: tuple[RawMessage, ...]
    chunk_size: int
    flags: int = field(default=WRITE_FLAGS)

    @property
    def size(self) -> int:
        """Bytes of the whole encoded chunk 0: prefix, messages and checksum."""
        return _prefix_size(self.flags) + self.chunk_size + CHECKSUM_SIZE

    @staticmethod
    def size_for(chunk_size: int) -> int:
        """Encoded size of a header that h5swmr writes with ``chunk_size`` bytes of messages."""
        return _PREFIX.size + chunk_size + CHECKSUM_SIZE

    def encode(self) -> bytes:
        if self.flags != self.WRITE_FLAGS:
            raise FormatError(f"object header: h5swmr writes flags {self.WRITE_FLAGS:#x} only")
        body = _pad(self.messages, self.chunk_size, "object header")
        return seal(_PREFIX.pack(SIGNATURE, self.VERSION, self.flags, self.chunk_size) + body)

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        """Decode chunk 0 from ``buf``, which must start at the header and may run past its end."""
        cur = ByteCursor(buf, "object header")
        signature, version, flags = cur.read(4), cur.u8(), cur.u8()
        if signature != SIGNATURE:
            raise FormatError(
                f"object header: signature {signature!r} at address {address}, expected OHDR",
                structure="object header",
                address=address,
            )
        if version != cls.VERSION or flags & ~_KNOWN_FLAGS:
            raise FormatError(
                f"object header: version {version}, flags {flags:#x}", structure="object header"
            )
        if flags & ObjectHeaderFlags.TIMES_STORED:
            cur.skip(16)
        if flags & ObjectHeaderFlags.ATTR_PHASE_CHANGE_STORED:
            cur.skip(4)
        chunk_size = cur.uint(1 << (flags & ObjectHeaderFlags.SIZE_WIDTH_MASK))
        end = cur.offset + chunk_size
        whole = cur.offset + chunk_size + CHECKSUM_SIZE
        if whole > len(buf):
            cur.skip(chunk_size + CHECKSUM_SIZE)  # raises TruncatedError
        verified(memoryview(buf)[:whole], what="object header", address=address)
        messages = _decode_messages(cur, end, flags, "object header")
        return cls(messages, chunk_size, flags)

    @staticmethod
    def encoded_size(buf: BytesLike) -> int:
        """Total size of the chunk 0 that starts ``buf``, read from its prefix alone."""
        cur = ByteCursor(buf, "object header prefix")
        cur.skip(5)
        flags = cur.u8()
        if flags >= 64:
            return 0
        width = 1 << (flags & ObjectHeaderFlags.SIZE_WIDTH_MASK)
        prefix = _prefix_size(flags)
        cur.skip(prefix - 6 - width)  # the times and attribute phase change come first
        return prefix + cur.uint(width) + CHECKSUM_SIZE


def _prefix_size(flags: int) -> int:
    size = 6 + (1 << (flags & ObjectHeaderFlags.SIZE_WIDTH_MASK))
    if flags & ObjectHeaderFlags.TIMES_STORED:
        size += 16
    if flags & ObjectHeaderFlags.ATTR_PHASE_CHANGE_STORED:
        size += 4
    return size


def _decode_messages(cur: ByteCursor, end: int, flags: int, what: str) -> tuple[RawMessage, ...]:
    header_size = MESSAGE_HEADER_SIZE + (
        2 if flags & ObjectHeaderFlags.ATTR_CREATION_ORDER_TRACKED else 0
    )
    messages = []
    while end - cur.offset >= header_size:
        msg_type, size, msg_flags = cur.u8(), cur.u16(), cur.u8()
        if header_size > MESSAGE_HEADER_SIZE:
            cur.skip(2)
        if cur.offset + size > end:
            raise FormatError(f"{what}: message of type {msg_type} runs past its chunk")
        body = cur.read(size)
        if msg_type != MessageType.NIL:
            messages.append(RawMessage(msg_type, body, msg_flags))
    cur.skip(end - cur.offset)  # a gap of at most 3 bytes
    return tuple(messages)


@dataclass(frozen=True, slots=True)
class ContinuationBlock:
    """An OCHK block: more messages of an object header, found through a continuation message.

    Its length, as the continuation message stores it, includes the signature and the checksum.
    """

    messages: tuple[RawMessage, ...]
    length: int

    def encode(self) -> bytes:
        body_size = self.length - len(CONTINUATION_SIGNATURE) - CHECKSUM_SIZE
        return seal(CONTINUATION_SIGNATURE + _pad(self.messages, body_size, "continuation block"))

    @classmethod
    def decode(
        cls,
        buf: BytesLike,
        *,
        header_flags: int = ObjectHeader.WRITE_FLAGS,
        address: int | None = None,
    ) -> Self:
        body = verified(buf, what="object header continuation block", address=address)
        cur = ByteCursor(body, "object header continuation block")
        if cur.read(4) != CONTINUATION_SIGNATURE:
            raise FormatError(
                f"continuation block at address {address}: signature is not OCHK",
                structure="continuation block",
                address=address,
            )
        messages = _decode_messages(cur, len(body), header_flags, "continuation block")
        return cls(messages, len(buf))


def find_message(messages: tuple[RawMessage, ...], msg_type: MessageType) -> RawMessage | None:
    """The first message of ``msg_type``, if any."""
    return next((m for m in messages if m.type == msg_type), None)


def find_messages(messages: tuple[RawMessage, ...], msg_type: MessageType) -> list[RawMessage]:
    """Every message of ``msg_type``, in order."""
    return [m for m in messages if m.type == msg_type]


def raw(message_type: MessageType, body: bytes, flags: MessageFlags | int = 0) -> RawMessage:
    """A RawMessage from an encoded body; a short name for the planner's lists."""
    return RawMessage(int(message_type), body, int(flags))
