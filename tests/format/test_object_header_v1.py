"""Version 1 object headers (libhdf5's default format), decoded from h5py-written files."""

from __future__ import annotations

import contextlib
import random
import struct
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import FormatError, H5SwmrError
from h5swmr.format.constants import MessageType
from h5swmr.format.object_header import RawMessage
from h5swmr.format.object_header_v1 import ObjectHeaderV1, decode_messages_v1, is_v1_header
from h5swmr.format.superblock_v0 import SuperblockV0
from tests.format.real_files import check_corruption, default_file

__all__ = ["default_file"]

PREFIX = ObjectHeaderV1.PREFIX_SIZE


def header_messages(data: bytes, address: int) -> tuple[ObjectHeaderV1, list[RawMessage]]:
    """The prefix and every message of a v1 header, continuation chunks included."""
    prefix = ObjectHeaderV1.decode(data[address : address + PREFIX], address=address)
    messages = list(
        decode_messages_v1(data[address + PREFIX : address + PREFIX + prefix.chunk_size])
    )
    for message in messages:
        if message.type == MessageType.CONTINUATION:
            at, length = struct.unpack("<QQ", message.body)
            messages += decode_messages_v1(data[at : at + length])
    return prefix, messages


def test_root_header_matches_h5py(default_file: Path) -> None:
    data = default_file.read_bytes()
    root = SuperblockV0.decode(data[:96]).root
    assert is_v1_header(data[root.object_address :])
    prefix, messages = header_messages(data, root.object_address)
    assert prefix.reference_count == 1
    assert prefix.chunk_size % 8 == 0
    with h5py.File(default_file, "r") as f:
        info = h5py.h5o.get_info(f.id)
        assert sum(m.type == MessageType.ATTRIBUTE for m in messages) == info.num_attrs == 4
    table = [m for m in messages if m.type == MessageType.SYMBOL_TABLE]
    assert len(table) == 1 and table[0].body == root.scratch  # the entry caches the message
    assert all(len(m.body) % 8 == 0 for m in messages)


def test_dataset_headers_match_h5py(default_file: Path) -> None:
    data = default_file.read_bytes()
    with h5py.File(default_file, "r") as f:
        for name in ("chunked", "gzip", "many/d07"):
            _, messages = header_messages(data, h5py.h5o.get_info(f[name].id).addr)
            kinds = {m.type for m in messages}
            assert {MessageType.DATASPACE, MessageType.DATATYPE, MessageType.LAYOUT} <= kinds
            assert (MessageType.FILTER_PIPELINE in kinds) == (name == "gzip")


def test_corruption(default_file: Path) -> None:
    data = default_file.read_bytes()
    address = SuperblockV0.decode(data[:96]).root_address
    check_corruption(ObjectHeaderV1.decode, data[address : address + PREFIX], checksummed=False)
    chunk_size = ObjectHeaderV1.decode(data[address : address + PREFIX]).chunk_size
    chunks = [data[address + PREFIX : address + PREFIX + chunk_size]]
    for message in decode_messages_v1(chunks[0]):
        if message.type == MessageType.CONTINUATION:
            at, length = struct.unpack("<QQ", message.body)
            chunks.append(data[at : at + length])
    assert len(chunks) == 2  # the root's attributes moved to a continuation chunk
    for chunk in chunks:
        _check_chunk(chunk)


def _check_chunk(chunk: bytes) -> None:
    """Cuts between messages leave whole messages; every other cut raises FormatError; flips
    and garbage raise nothing but H5SwmrError."""
    whole = decode_messages_v1(chunk)
    ends, position = set(), 0
    while position < len(chunk):
        position += 8 + int.from_bytes(chunk[position + 2 : position + 4], "little")
        ends.add(position)
    for cut in range(len(chunk)):
        if cut in ends or cut == 0:
            kept = decode_messages_v1(chunk[:cut])
            assert kept == whole[: len(kept)]
        else:
            with pytest.raises(FormatError):
                decode_messages_v1(chunk[:cut])
    rng = random.Random(0)
    for position in range(len(chunk)):
        bad = bytearray(chunk)
        bad[position] ^= 1 << rng.randrange(8)
        with contextlib.suppress(H5SwmrError):
            decode_messages_v1(bytes(bad))


def test_messages_must_be_aligned_and_whole() -> None:
    header = struct.Struct("<HHB3x")
    good = header.pack(1, 8, 0) + bytes(8)
    assert decode_messages_v1(good) == (RawMessage(1, bytes(8), 0),)
    assert decode_messages_v1(header.pack(0, 8, 0) + bytes(8)) == ()  # NIL messages dropped
    assert decode_messages_v1(b"") == ()
    for bad in (
        header.pack(1, 7, 0) + bytes(7),  # not a multiple of 8
        header.pack(1, 16, 0) + bytes(8),  # past the chunk
        good + bytes(4),  # a partial message header
    ):
        with pytest.raises(FormatError):
            decode_messages_v1(bad)


def test_prefix() -> None:
    raw = struct.pack("<BBHII4x", 1, 0, 5, 1, 256)
    assert ObjectHeaderV1.decode(raw) == ObjectHeaderV1(5, 1, 256)
    with pytest.raises(FormatError):
        ObjectHeaderV1.decode(struct.pack("<BBHII4x", 2, 0, 5, 1, 256))
    assert not is_v1_header(b"OHDR\x02") and not is_v1_header(b"")
