"""Version 2 object headers and OCHK blocks: round trip, corruption and libhdf5 as the oracle."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import ChecksumError, FormatError, TruncatedError
from h5swmr.format.checksum import seal
from h5swmr.format.constants import MessageType
from h5swmr.format.object_header import (
    ContinuationBlock,
    ObjectHeader,
    RawMessage,
    find_message,
    message_bytes,
    raw,
)
from tests.format.conftest import check_structure

messages_st = st.lists(
    st.builds(
        RawMessage,
        st.integers(1, 255),  # NIL (0) is padding: the decoder drops it
        st.binary(max_size=40),
        st.integers(0, 255),
    ),
    max_size=5,
).map(tuple)
spare_st = st.one_of(st.just(0), st.integers(4, 60))


@given(messages_st, spare_st)
def test_round_trip(messages: tuple[RawMessage, ...], spare: int) -> None:
    header = ObjectHeader(messages, message_bytes(messages) + spare)
    encoded = check_structure(header, garbage_rounds=5)
    assert len(encoded) == header.size == ObjectHeader.size_for(header.chunk_size)
    assert ObjectHeader.encoded_size(encoded + b"more") == len(encoded)


@given(messages_st, spare_st)
def test_continuation_round_trip(messages: tuple[RawMessage, ...], spare: int) -> None:
    block = ContinuationBlock(messages, 8 + message_bytes(messages) + spare)
    encoded = check_structure(block, garbage_rounds=5)
    assert len(encoded) == block.length
    assert encoded[:4] == b"OCHK"


def test_layout() -> None:
    header = ObjectHeader((raw(MessageType.DATASPACE, b"\x02\x01\x01\x01" + bytes(16)),), 40)
    encoded = header.encode()
    assert encoded[:6] == b"OHDR\x02\x02"
    assert struct.unpack_from("<I", encoded, 6) == (40,)
    assert encoded[10:14] == bytes([1, 20, 0, 0])  # type, size (u16), flags
    assert encoded[34:38] == bytes([0, 12, 0, 0])  # one NIL message pads the rest
    assert encoded[38:50] == bytes(12)
    assert len(encoded) == 54


@pytest.mark.parametrize("spare", [-1, 1, 2, 3])
def test_unpaddable_chunk_sizes_rejected(spare: int) -> None:
    messages = (RawMessage(1, bytes(8)),)
    with pytest.raises(FormatError):
        ObjectHeader(messages, 12 + spare).encode()
    with pytest.raises(FormatError):
        ContinuationBlock(messages, 8 + 12 + spare).encode()


def test_writes_only_its_own_flags() -> None:
    with pytest.raises(FormatError):
        ObjectHeader((), 16, flags=0x20).encode()


def _sample() -> bytes:
    return ObjectHeader((RawMessage(1, bytes(20)), RawMessage(3, b"\x10" * 12, 1)), 60).encode()


def test_every_byte_flip() -> None:
    """Past the prefix every flip is a ChecksumError; in it, some FormatError."""
    encoded = _sample()
    for i in range(len(encoded)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(encoded)
            bad[i] ^= mask
            expected = ChecksumError if i >= ObjectHeader.PREFIX_SIZE else FormatError
            with pytest.raises(expected):
                ObjectHeader.decode(bad)


def test_every_truncation_and_trailing_bytes() -> None:
    encoded = _sample()
    for cut in range(len(encoded)):
        with pytest.raises(TruncatedError):
            ObjectHeader.decode(encoded[:cut])
    assert ObjectHeader.decode(encoded + bytes(500)) == ObjectHeader.decode(encoded)


def test_continuation_every_byte_flip_and_truncation() -> None:
    encoded = ContinuationBlock((RawMessage(12, bytes(30)),), 60).encode()
    for i in range(len(encoded)):
        bad = bytearray(encoded)
        bad[i] ^= 0x40
        with pytest.raises(ChecksumError):
            ContinuationBlock.decode(bad)
    for cut in range(len(encoded)):
        with pytest.raises(FormatError):
            ContinuationBlock.decode(encoded[:cut])


def test_unknown_prefix_flags_and_version_rejected() -> None:
    encoded = bytearray(_sample())
    for offset, value in ((4, 1), (4, 3), (5, 0x42), (5, 0x82)):
        bad = bytearray(encoded)
        bad[offset] = value
        with pytest.raises(FormatError):
            ObjectHeader.decode(bad)


def test_message_running_past_its_chunk() -> None:
    body = struct.pack("<4sBBI", b"OHDR", 2, 2, 8) + struct.pack("<BHB", 1, 20, 0) + bytes(4)
    with pytest.raises(FormatError, match="runs past"):
        ObjectHeader.decode(seal(body))


@pytest.mark.parametrize(
    "make",
    [
        lambda: RawMessage(1, bytes(70_000)).encode(),
        lambda: RawMessage(256, b"").encode(),
    ],
    ids=["body-too-long", "type-too-big"],
)
def test_out_of_range_fields_raise_format_error(make: object) -> None:
    with pytest.raises(FormatError):
        make()  # type: ignore[operator]


# --- oracle: headers written by libhdf5 (h5py, libver="latest") -------------------------------


@pytest.fixture(scope="module")
def h5py_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ohdr") / "lib.h5"
    with h5py.File(path, "w", libver="latest") as f:
        kw = {"data": np.arange(10), "maxshape": (None,), "chunks": (4,)}
        many = f.create_dataset("attrs", **kw)
        f.create_dataset("plain", **kw)
        f.create_dataset("timed", track_times=True, **kw)
        f.create_group("ordered", track_order=True)
        f.create_group("g")
        for i in range(6):  # chunk 0 cannot grow in place: libhdf5 adds an OCHK block
            many.attrs[f"a{i}"] = np.arange(10) + i
    return path


def _decode(path: Path, name: str) -> tuple[ObjectHeader, int, bytes]:
    with h5py.File(path, "r") as f:
        address = h5py.h5o.get_info(f[name].id).addr
    buf = path.read_bytes()
    return ObjectHeader.decode(buf[address:], address=address), address, buf


def test_oracle_root_group(h5py_file: Path) -> None:
    header, address, _ = _decode(h5py_file, "/")
    assert address == 48
    assert header.flags == 0x00  # h5py: times off, 1-byte chunk-0 size
    types = [m.type for m in header.messages]
    assert types[:2] == [MessageType.LINK_INFO, MessageType.GROUP_INFO]
    assert set(types[2:]) <= {MessageType.LINK, MessageType.CONTINUATION}


def test_oracle_dataset(h5py_file: Path) -> None:
    header, _, _ = _decode(h5py_file, "plain")
    assert header.flags == 0x01  # 2-byte chunk-0 size
    assert [(m.type, m.flags) for m in header.messages] == [
        (MessageType.DATASPACE, 0),
        (MessageType.DATATYPE, 1),
        (MessageType.FILL_VALUE, 1),
        (MessageType.LAYOUT, 0),
    ]
    layout = find_message(header.messages, MessageType.LAYOUT)
    assert layout is not None
    assert layout.body[:2] == bytes([4, 2])  # layout v4, chunked


def test_oracle_times_and_creation_order(h5py_file: Path) -> None:
    timed, address, buf = _decode(h5py_file, "timed")
    plain, _, _ = _decode(h5py_file, "plain")
    assert timed.flags == 0x21
    assert timed.size == plain.size + 16
    assert ObjectHeader.encoded_size(buf[address:]) == timed.size  # the size follows the times
    assert [m.type for m in timed.messages] == [m.type for m in plain.messages]
    ordered, _, _ = _decode(h5py_file, "ordered")
    assert ordered.flags & 0x0C == 0x0C  # creation order tracked and indexed
    assert [m.type for m in ordered.messages] == [MessageType.LINK_INFO, MessageType.GROUP_INFO]


def test_oracle_continuation_block_bytes(h5py_file: Path) -> None:
    header, _, buf = _decode(h5py_file, "attrs")
    continuation = find_message(header.messages, MessageType.CONTINUATION)
    assert continuation is not None
    where, length = struct.unpack("<QQ", continuation.body)
    block = ContinuationBlock.decode(buf[where : where + length], header_flags=header.flags)
    assert [m.type for m in block.messages] == [MessageType.ATTRIBUTE] * 5
    assert block.encode() == buf[where : where + length]  # libhdf5's OCHK, byte for byte


@pytest.mark.parametrize("name", ["/", "plain", "timed", "g"])
def test_oracle_libhdf5_reads_our_header(h5py_file: Path, tmp_path: Path, name: str) -> None:
    """Replace libhdf5's header by ours (same footprint, flags 0x02): libhdf5 still reads it."""
    header, address, buf = _decode(h5py_file, name)
    ours = ObjectHeader(header.messages, header.size - ObjectHeader.size_for(0))
    encoded = ours.encode()
    assert len(encoded) == header.size
    assert encoded[5] == ObjectHeader.WRITE_FLAGS
    patched = tmp_path / "patched.h5"
    patched.write_bytes(buf[:address] + encoded + buf[address + len(encoded) :])
    with h5py.File(patched, "r") as f:
        assert sorted(f) == ["attrs", "g", "ordered", "plain", "timed"]
        assert list(f["plain"][:]) == list(range(10))
        assert list(f["timed"][:]) == list(range(10))
        assert len(f["g"]) == 0
