"""Superblock versions 0 and 1 (libhdf5's default format): decoded from h5py-written files."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.superblock_v0 import DEFAULT_CHUNK_K, SuperblockV0
from tests.format.real_files import check_corruption, default_file

__all__ = ["default_file"]

V0_SIZE = 96
V1_SIZE = 100


def _v0(path: Path) -> bytes:
    return path.read_bytes()[:V0_SIZE]


def _as_v1(v0: bytes, chunk_k: int) -> bytes:
    """The same superblock as version 1, with an indexed-storage K (libhdf5 writes v1 for a
    non-default istore K, which h5py cannot set)."""
    return v0[:8] + b"\x01" + v0[9:24] + struct.pack("<HH", chunk_k, 0) + v0[24:]


def test_decode_h5py_file(default_file: Path) -> None:
    sb = SuperblockV0.decode(_v0(default_file))
    assert sb.version == 0
    assert (sb.group_leaf_k, sb.group_internal_k, sb.chunk_internal_k) == (4, 16, DEFAULT_CHUNK_K)
    assert sb.base_address == 0
    assert sb.eof_address == default_file.stat().st_size
    with h5py.File(default_file, "r") as f:
        assert sb.root_address == h5py.h5o.get_info(f.id).addr
    assert sb.root.cache_type == 1  # the root entry caches its symbol table addresses


def test_root_entry_scratch_pad_names_the_symbol_table(default_file: Path) -> None:
    sb = SuperblockV0.decode(_v0(default_file))
    btree, heap = struct.unpack("<QQ", sb.root.scratch)
    data = default_file.read_bytes()
    assert data[btree : btree + 4] == b"TREE"
    assert data[heap : heap + 4] == b"HEAP"


def test_version_1(default_file: Path) -> None:
    sb = SuperblockV0.decode(_as_v1(_v0(default_file), 64))
    assert (sb.version, sb.chunk_internal_k) == (1, 64)
    assert sb.root == SuperblockV0.decode(_v0(default_file)).root


@pytest.mark.parametrize("version", [0, 1])
def test_corruption(default_file: Path, version: int) -> None:
    good = _v0(default_file) if version == 0 else _as_v1(_v0(default_file), 64)
    assert len(good) == (V0_SIZE if version == 0 else V1_SIZE)
    check_corruption(SuperblockV0.decode, good, checksummed=False)


def test_bad_identification(default_file: Path) -> None:
    good = bytearray(_v0(default_file))
    for position, value, error in (
        (0, 0x88, FormatError),  # signature
        (8, 2, FormatError),  # version 2 is not this decoder's
        (13, 4, UnsupportedError),  # 4-byte offsets
        (14, 4, UnsupportedError),  # 4-byte lengths
        (16, 0, FormatError),  # group leaf K 0
    ):
        bad = bytearray(good)
        bad[position] = value
        if position == 16:
            bad[17] = 0
        with pytest.raises(error):
            SuperblockV0.decode(bytes(bad))
    with pytest.raises(FormatError):
        SuperblockV0.decode(_as_v1(bytes(good), 0))  # chunk K 0
