"""LZ4Filter (32004): the battery with hdf5plugin as oracle, the block format, declared sizes."""

from __future__ import annotations

import struct
import sys

import numcodecs.lz4
import pytest

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.lz4 import DEFAULT_BLOCK_SIZE, WHOLE_CHUNK, LZ4Filter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import FilterId

from .conformance import CodecTests


class TestLZ4Filter(CodecTests):
    instances = (LZ4Filter(), LZ4Filter(WHOLE_CHUNK), LZ4Filter(1000), LZ4Filter(64))


def test_constructor_and_cd_values() -> None:
    assert FilterPipeline.lz4().filters == (LZ4Filter(256 * 1024),)
    assert FilterPipeline.lz4(0).filters == (LZ4Filter(WHOLE_CHUNK),)
    assert FilterPipeline.lz4(4096).filters == (LZ4Filter(4096),)
    assert LZ4Filter.filter_id == FilterId.LZ4
    assert int(FilterId.LZ4) == 32004
    assert LZ4Filter().cd_values(2) == (DEFAULT_BLOCK_SIZE,) == (262144,)
    assert LZ4Filter(0).cd_values(2) == (0,)
    assert LZ4Filter.from_cd_values(()) == LZ4Filter(0)
    assert LZ4Filter.from_cd_values((0,)) == LZ4Filter(0)
    assert LZ4Filter.from_cd_values((262144,)) == LZ4Filter()


def test_default_blocks_and_whole_chunk() -> None:
    """The default cuts a chunk over 256 KiB into blocks; WHOLE_CHUNK keeps one block."""
    chunk = bytes(range(200)) * 3000  # 600,000 bytes: blocks of 262144, 262144, 75712
    default = LZ4Filter().encode(chunk, 1)
    assert struct.unpack_from(">QI", default) == (600_000, 262144)
    whole = LZ4Filter(WHOLE_CHUNK).encode(chunk, 1)
    assert struct.unpack_from(">QI", whole) == (600_000, 600_000)
    assert default != whole
    assert LZ4Filter().decode(default, 1) == LZ4Filter().decode(whole, 1) == chunk
    small = bytes(range(200)) * 50  # under one block: the same bytes either way
    assert LZ4Filter().encode(small, 1) == LZ4Filter(WHOLE_CHUNK).encode(small, 1)


def test_block_format() -> None:
    chunk = bytes(range(100)) * 30 + bytes(1000)
    encoded = LZ4Filter(1000).encode(chunk, 1)
    assert struct.unpack_from(">QI", encoded) == (4000, 1000)
    # the first 1000-byte block of 0..99 repeated compresses; blocks are raw lz4 blocks
    (size,) = struct.unpack_from(">I", encoded, 12)
    block = struct.pack("<I", 1000) + encoded[16 : 16 + size]
    assert numcodecs.lz4.decompress(block) == chunk[:1000]


def test_incompressible_block_is_stored_raw() -> None:
    chunk = bytes(range(256))
    encoded = LZ4Filter().encode(chunk, 1)
    assert encoded == struct.pack(">QII", 256, 256, 256) + chunk
    assert LZ4Filter().decode(encoded, 1) == chunk


def test_declared_size() -> None:
    chunk = bytes(5000)
    assert FilterPipeline.lz4().declared_size(LZ4Filter().encode(chunk, 2)) == 5000
    with pytest.raises(FilterError, match="header"):
        FilterPipeline.lz4().declared_size(b"\0" * 11)


@pytest.mark.parametrize("block_size", [-1, 0x7E00_0001, True, 1.0])
def test_invalid_block_size(block_size: object) -> None:
    with pytest.raises(FilterError):
        LZ4Filter(block_size)  # type: ignore[arg-type]


def test_corrupt_chunks_raise_filter_error() -> None:
    encoded = LZ4Filter().encode(bytes(range(50)) * 100, 1)
    for bad in (encoded[:5], encoded[:-1], encoded + b"x", encoded[:16] + b"\xff" * 40):
        with pytest.raises(FilterError, match="lz4"):
            LZ4Filter().decode(bad, 1)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numcodecs.lz4", None)
    with pytest.raises(FilterUnavailableError, match=r'pip install "h5swmr\[codecs\]"'):
        LZ4Filter()
    with pytest.raises(FilterUnavailableError, match="lz4"):
        FilterPipeline.lz4()
