"""Superblock v3: round trip, corruption, and libhdf5 (h5py) as the oracle both ways."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import ChecksumError, FormatError, TruncatedError, UnsupportedError
from h5swmr.format.checksum import seal
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.superblock import FLAGS_OFFSET, SIGNATURE, ConsistencyFlags, Superblock
from tests.format.conftest import check_structure

FLAGS = [ConsistencyFlags(v) for v in (0, 1, 2, 3, 4, 5, 6, 7)]
addresses = st.integers(0, 2**64 - 1)


@given(st.sampled_from(FLAGS), addresses, addresses, addresses)
def test_round_trip(flags: ConsistencyFlags, eof: int, root: int, ext: int) -> None:
    sb = Superblock(flags, eof, root, ext)
    encoded = check_structure(sb, garbage_rounds=10)
    assert len(encoded) == Superblock.SIZE == 48


def test_layout() -> None:
    encoded = Superblock(ConsistencyFlags.SWMR_WRITING, 4096, 48).encode()
    assert encoded[:8] == SIGNATURE == b"\x89HDF\r\n\x1a\n"
    assert encoded[8:FLAGS_OFFSET] == bytes([3, 8, 8])
    assert encoded[FLAGS_OFFSET] == 0x05
    assert struct.unpack_from("<4Q", encoded, 12) == (0, UNDEFINED_ADDRESS, 4096, 48)


def test_with_flags_and_eof() -> None:
    sb = Superblock(ConsistencyFlags.SWMR_WRITING, 100, 48, 77)
    assert sb.with_flags(ConsistencyFlags.NONE) == Superblock(ConsistencyFlags.NONE, 100, 48, 77)
    assert sb.with_eof(200) == Superblock(ConsistencyFlags.SWMR_WRITING, 200, 48, 77)


def test_with_flags_keeps_base_address() -> None:
    sb = Superblock(ConsistencyFlags.NONE, 100, 48, base_address=512)
    assert sb.with_flags(ConsistencyFlags.SWMR_WRITING).base_address == 512
    assert sb.with_eof(200).base_address == 512


def test_every_byte_flip() -> None:
    """Identification bytes (signature, version, sizes) give FormatError; the rest ChecksumError."""
    encoded = Superblock(ConsistencyFlags.SWMR_WRITING, 4096, 48).encode()
    for i in range(len(encoded)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(encoded)
            bad[i] ^= mask
            expected = FormatError if i < FLAGS_OFFSET else ChecksumError
            with pytest.raises(expected):
                Superblock.decode(bad)


def test_every_truncation() -> None:
    encoded = Superblock(ConsistencyFlags.NONE, 4096, 48).encode()
    for cut in range(len(encoded)):
        with pytest.raises(TruncatedError):
            Superblock.decode(encoded[:cut])


def _resealed(encoded: bytes, offset: int, value: int) -> bytes:
    body = bytearray(encoded[:44])
    body[offset] = value
    return seal(body)


def test_version_2_accepted_others_rejected() -> None:
    encoded = Superblock(ConsistencyFlags.NONE, 4096, 48).encode()
    assert Superblock.decode(_resealed(encoded, 8, 2)).eof_address == 4096
    for version in (0, 1):  # valid HDF5 (libhdf5's default format), not this structure
        with pytest.raises(UnsupportedError, match="default"):
            Superblock.decode(_resealed(encoded, 8, version))
    for version in (4, 255):
        with pytest.raises(FormatError, match="version"):
            Superblock.decode(_resealed(encoded, 8, version))
    for offset in (9, 10):
        with pytest.raises(FormatError):
            Superblock.decode(_resealed(encoded, offset, 4))


@pytest.mark.parametrize("flags", [0x08, 0x10, 0x80, 0xFF])
def test_unknown_flag_bits_rejected(flags: int) -> None:
    encoded = Superblock(ConsistencyFlags.NONE, 4096, 48).encode()
    with pytest.raises(FormatError, match="flags"):
        Superblock.decode(_resealed(encoded, FLAGS_OFFSET, flags))


def test_decode_reads_only_48_bytes() -> None:
    encoded = Superblock(ConsistencyFlags.NONE, 4096, 48).encode()
    assert Superblock.decode(encoded + b"OHDR junk").eof_address == 4096


# --- oracle: libhdf5 through h5py -----------------------------------------------------------


def _h5py_file(path: Path) -> None:
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("d", data=np.arange(10), maxshape=(None,), chunks=(4,))
        f.create_group("g")


def test_oracle_decode_and_reencode_h5py(tmp_path: Path) -> None:
    path = tmp_path / "lib.h5"
    _h5py_file(path)
    raw = path.read_bytes()
    sb = Superblock.decode(raw)
    assert sb.flags == ConsistencyFlags.NONE
    assert sb.eof_address == len(raw)
    assert sb.extension_address == UNDEFINED_ADDRESS
    assert sb.base_address == 0
    with h5py.File(path, "r") as f:
        assert sb.root_address == h5py.h5o.get_info(f["/"].id).addr
    assert sb.encode() == raw[:48]


def test_oracle_live_swmr_writer_flags(tmp_path: Path) -> None:
    path = tmp_path / "swmr.h5"
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("d", shape=(0,), maxshape=(None,), chunks=(4,), dtype="i4")
        f.swmr_mode = True
        d.resize((3,))
        d[:] = 7
        f.flush()
        raw = path.read_bytes()[:48]
        sb = Superblock.decode(raw)
        assert sb.flags == ConsistencyFlags.SWMR_WRITING
        assert sb.encode() == raw
    assert Superblock.decode(path.read_bytes()).flags == ConsistencyFlags.NONE


def test_oracle_libhdf5_honours_our_flags_and_eof(tmp_path: Path) -> None:
    path = tmp_path / "ours.h5"
    _h5py_file(path)
    sb = Superblock.decode(path.read_bytes())

    def put(new: Superblock) -> None:
        with path.open("r+b") as fh:
            fh.write(new.encode())

    put(sb.with_flags(ConsistencyFlags.SWMR_WRITING))
    with pytest.raises(OSError, match="already open"):
        h5py.File(path, "r")
    with h5py.File(path, "r", swmr=True) as f:
        assert list(f["d"][:]) == list(range(10))
    put(sb.with_flags(ConsistencyFlags.WRITE_ACCESS))
    with pytest.raises(OSError):
        h5py.File(path, "r", swmr=True)
    put(sb.with_flags(ConsistencyFlags.NONE).with_eof(sb.eof_address + 4096))
    with path.open("r+b") as fh:
        fh.truncate(sb.eof_address + 4096)
    with h5py.File(path, "r") as f:
        assert list(f["d"][:]) == list(range(10))
        assert f.id.get_filesize() == sb.eof_address + 4096


@given(st.sampled_from(FLAGS), addresses, addresses, addresses)
def test_patch_eof_gives_the_bytes_of_with_eof(
    flags: ConsistencyFlags, eof: int, root: int, new_eof: int
) -> None:
    sb = Superblock(flags, eof, root)
    image = bytearray(sb.encode())
    Superblock.patch_eof(image, new_eof)
    assert bytes(image) == sb.with_eof(new_eof).encode()
    assert Superblock.decode(image).eof_address == new_eof
