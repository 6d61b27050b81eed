"""BitshuffleFilter (32008) with LZ4, zstd or nothing: the battery with hdf5plugin as oracle."""

from __future__ import annotations

import struct
import sys

import numpy as np
import pytest

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.bitshuffle import BitshuffleCompression, BitshuffleFilter, default_block_size
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import FilterId

from .conformance import CodecTests

LZ4, ZSTD, NONE = BitshuffleCompression.LZ4, BitshuffleCompression.ZSTD, BitshuffleCompression.NONE


class TestBitshuffleLZ4(CodecTests):
    whole_elements = True
    instances = (BitshuffleFilter(), BitshuffleFilter(64, LZ4))


class TestBitshuffleZstd(CodecTests):
    whole_elements = True
    instances = (BitshuffleFilter(0, ZSTD, 3), BitshuffleFilter(136, ZSTD, 1))


class TestBitshuffleNone(CodecTests):
    whole_elements = True
    instances = (BitshuffleFilter(0, NONE),)


def test_constructors_and_cd_values() -> None:
    assert FilterPipeline.bitshuffle_lz4().filters == (BitshuffleFilter(0, LZ4),)
    assert FilterPipeline.bitshuffle_zstd(5, 256).filters == (BitshuffleFilter(256, ZSTD, 5),)
    assert BitshuffleFilter.filter_id == FilterId.BITSHUFFLE
    assert int(FilterId.BITSHUFFLE) == 32008
    assert BitshuffleFilter().cd_values(2) == (0, 4, 2, 0, 2)
    assert BitshuffleFilter(0, ZSTD, 3).cd_values(2) == (0, 4, 2, 0, 3, 3)
    assert default_block_size(2) == 4096
    assert default_block_size(16) == 512
    assert default_block_size(128) == 128


def test_header_and_declared_size() -> None:
    chunk = np.arange(5000, dtype="<u2").tobytes()
    for pipeline in (FilterPipeline.bitshuffle_lz4(), FilterPipeline.bitshuffle_zstd(3)):
        encoded = pipeline.encode(chunk, 2)[0]
        assert struct.unpack_from(">QI", encoded) == (10000, 8192)
        assert pipeline.declared_size(encoded) == 10000
    assert FilterPipeline([BitshuffleFilter(0, NONE)]).declared_size(chunk) is None


def test_partial_elements_are_refused() -> None:
    with pytest.raises(FilterError, match="whole 2-byte elements"):
        BitshuffleFilter().encode(b"abc", 2)
    assert FilterPipeline.bitshuffle_lz4().encode(b"abc", 2) == (b"abc", 1)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((7, LZ4), "multiple of 8"),
        ((-8, LZ4), "multiple of 8"),
        ((0, LZ4, 3), "only zstd"),
        ((0, ZSTD, None), "level"),
        ((0, ZSTD, 23), "level"),
        ((0, 2), "BitshuffleCompression"),
    ],
)
def test_invalid_parameters(args: tuple[object, ...], words: str) -> None:
    with pytest.raises(FilterError, match=words):
        BitshuffleFilter(*args)  # type: ignore[arg-type]


def test_corrupt_chunks_raise_filter_error() -> None:
    chunk = np.arange(3000, dtype="<u4").tobytes()
    for item in (BitshuffleFilter(), BitshuffleFilter(0, ZSTD, 3)):
        encoded = item.encode(chunk, 4)
        for bad in (encoded[:11], encoded[:-1], encoded + b"x", encoded[:16] + b"\xff" * 60):
            with pytest.raises(FilterError, match="bitshuffle"):
                item.decode(bad, 4)


@pytest.mark.parametrize("module", ["bitshuffle", "numcodecs.lz4"])
def test_missing_library_names_the_extra(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(FilterUnavailableError, match=r'pip install "h5swmr\[codecs\]"'):
        FilterPipeline.bitshuffle_lz4()


def test_zstd_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    FilterPipeline.bitshuffle_lz4()  # needs no zstandard
    with pytest.raises(FilterUnavailableError, match="zstandard"):
        FilterPipeline.bitshuffle_zstd(3)
