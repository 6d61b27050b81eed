"""Reading back what a file holds: object headers and their continuation blocks.

Used to recover a crashed file and to reopen a closed one for appending. (The read-only facade for
users is ``h5swmr.reader``; the writer needs only these few structures and never imports it.)
"""

from __future__ import annotations

from collections.abc import Callable

from h5swmr.errors import FormatError, TruncatedError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.object_header import ContinuationBlock, ObjectHeader, RawMessage
from h5swmr.storage.file import FileHandle

Read = Callable[[int, int], bytes]
"""Reads ``size`` bytes at ``address`` (fewer at the end of the file)."""


def bounded(handle: FileHandle) -> Read:
    """Reads from ``handle`` that refuse to reach past the end of the file, so a corrupt size
    field makes a TruncatedError rather than a huge allocation."""

    def read(address: int, size: int) -> bytes:
        end = handle.current_size()
        if address < 0 or size < 0 or address > end:
            raise TruncatedError(f"read of {size} bytes at {address}: the file has {end} bytes")
        return handle.pread(address, min(size, end - address))

    return read


FIRST_READ = 4096
"""Bytes read for an object header before its prefix says how long it is."""
MAX_CONTINUATIONS = 1000


def read_object_header(read: Read, address: int) -> ObjectHeader:
    """Chunk 0 of the object header at ``address``."""
    head = read(address, FIRST_READ)
    size = ObjectHeader.encoded_size(head)
    if size > len(head):
        head = read(address, size)
    return ObjectHeader.decode(head, address=address)


def all_messages(read: Read, header: ObjectHeader) -> tuple[RawMessage, ...]:
    """Every message of an object: chunk 0's, then those of its continuation blocks."""
    messages = list(header.messages)
    pending = [m for m in header.messages if m.type == MessageType.CONTINUATION]
    seen = 0
    while pending:
        seen += 1
        if seen > MAX_CONTINUATIONS:
            raise FormatError("object header: too many continuation blocks", structure="OCHK")
        where = ContinuationMessage.decode(pending.pop(0).body)
        block = ContinuationBlock.decode(
            read(where.address, where.length), header_flags=header.flags, address=where.address
        )
        messages += block.messages
        pending += [m for m in block.messages if m.type == MessageType.CONTINUATION]
    return tuple(messages)
