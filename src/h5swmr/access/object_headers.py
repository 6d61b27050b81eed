"""Reading an object header, version 1 or 2, with all its continuation chunks, as one list.

The one object-header walk of h5swmr: the reader, ``open_append`` (writer/resume.py) and
``recover`` all read headers through it. Continuations are followed breadth first, each chunk at
most once and never more than MAX_CHUNKS of them; a torn v2 read is retried by the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.object_header import (
    SIGNATURE,
    ContinuationBlock,
    ObjectHeader,
    RawMessage,
)
from h5swmr.format.object_header_v1 import ObjectHeaderV1, decode_messages_v1, is_v1_header

SPECULATIVE_READ = 512
"""libhdf5 reads this much first (H5O_SPEC_READ_SIZE), then the rest once it knows the size."""
MAX_CHUNKS = 1024
"""More continuation chunks than this is a loop in a corrupt file, not a real header."""
_SHARED = 0x02


@dataclass(frozen=True, slots=True)
class WalkedHeader:
    """An object header as read: its v2 chunk 0 (None for a version 1 header) and every message,
    chunk 0's first, then those of the continuation chunks in the order they were reached."""

    chunk0: ObjectHeader | None
    messages: tuple[RawMessage, ...]

    @property
    def continued(self) -> tuple[RawMessage, ...]:
        """The messages that live in continuation chunks (all of them for a v1 header)."""
        return self.messages if self.chunk0 is None else self.messages[len(self.chunk0.messages) :]


def walk_object_header(src: FileSource, address: int) -> WalkedHeader:
    """The object header at ``address`` with all its continuation chunks (shared messages too)."""
    head = src.read_upto(address, SPECULATIVE_READ, "object header")
    if head[:4] == SIGNATURE:
        return src.retried(lambda: _read_v2(src, address), "object header")
    if is_v1_header(head):
        return WalkedHeader(None, _read_v1(src, address))
    raise FormatError(
        f"object header at address {address}: neither OHDR nor version 1",
        structure="object header",
        address=address,
    )


def read_object_header(src: FileSource, address: int) -> tuple[RawMessage, ...]:
    """Every message of the object header at ``address``, continuation chunks included;
    UnsupportedError for a shared message (the reader does not follow them)."""
    messages = walk_object_header(src, address).messages
    for message in messages:
        if message.flags & _SHARED:
            raise UnsupportedError(
                f"object header at address {address}: shared message of type {message.type}"
            )
    return messages


def _read_v2(src: FileSource, address: int) -> WalkedHeader:
    head = src.read_upto(address, SPECULATIVE_READ, "object header")
    size = ObjectHeader.encoded_size(head)
    buf = head if size <= len(head) else src.read(address, size, "object header")
    header = ObjectHeader.decode(buf, address=address)
    messages = list(header.messages)
    _follow_continuations(src, messages, header.flags, v1=False)
    return WalkedHeader(header, tuple(messages))


def _read_v1(src: FileSource, address: int) -> tuple[RawMessage, ...]:
    prefix_size = ObjectHeaderV1.PREFIX_SIZE
    prefix = ObjectHeaderV1.decode(src.read(address, prefix_size, "object header v1"))
    chunk = src.read(address + prefix_size, prefix.chunk_size, "object header v1")
    messages = list(decode_messages_v1(chunk))
    _follow_continuations(src, messages, 0, v1=True)
    return tuple(messages)


def _follow_continuations(
    src: FileSource, messages: list[RawMessage], flags: int, *, v1: bool
) -> None:
    """Append the messages of every continuation chunk, following continuations found in them."""
    seen: set[int] = set()
    position = 0
    while position < len(messages):
        message = messages[position]
        position += 1
        if message.type != MessageType.CONTINUATION:
            continue
        target = ContinuationMessage.decode(message.body)
        if target.address in seen or len(seen) >= MAX_CHUNKS:
            raise FormatError(
                f"object header: continuation loop at address {target.address}",
                structure="object header",
                address=target.address,
            )
        seen.add(target.address)
        what = "object header continuation"
        if v1:
            chunk = src.read(target.address, target.length, what)
            messages.extend(decode_messages_v1(chunk, what))
        else:
            messages.extend(_continuation_block(src, target, flags).messages)


def _continuation_block(
    src: FileSource, target: ContinuationMessage, flags: int
) -> ContinuationBlock:
    def decode(buf: bytes) -> ContinuationBlock:
        return ContinuationBlock.decode(buf, header_flags=flags, address=target.address)

    return src.block(target.address, target.length, decode, "object header continuation")
