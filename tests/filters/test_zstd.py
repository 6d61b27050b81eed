"""ZstdFilter (32015): the battery with hdf5plugin as oracle, levels, frame content size."""

from __future__ import annotations

import sys

import pytest
import zstandard

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.zstd import ZstdFilter, frame_content_size
from h5swmr.format.constants import FilterId

from .conformance import CodecTests


class TestZstdFilter(CodecTests):
    instances = (ZstdFilter(), ZstdFilter(1), ZstdFilter(9), ZstdFilter(-5))


def test_constructor_and_cd_values() -> None:
    assert FilterPipeline.zstd().filters == (ZstdFilter(3),)
    assert FilterPipeline.zstd(7).filters == (ZstdFilter(7),)
    assert ZstdFilter.filter_id == FilterId.ZSTD
    assert int(FilterId.ZSTD) == 32015
    assert ZstdFilter(-5).cd_values(1) == (2**32 - 5,)
    assert ZstdFilter.from_cd_values((2**32 - 5,)) == ZstdFilter(-5)


@pytest.mark.parametrize("size", [0, 1, 255, 256, 300, 65791, 65792, 100_000])
def test_declared_size_is_the_frame_content_size(size: int) -> None:
    encoded = ZstdFilter().encode(bytes(size), 1)
    assert FilterPipeline.zstd().declared_size(encoded) == size


def test_frame_without_content_size() -> None:
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(b"abc" * 100)
    assert frame_content_size(frame) is None
    with pytest.raises(FilterError, match="content size"):
        ZstdFilter().decode(frame, 1)


@pytest.mark.parametrize("level", [23, -131073, True, "3", None])
def test_invalid_level(level: object) -> None:
    with pytest.raises(FilterError):
        ZstdFilter(level)  # type: ignore[arg-type]


def test_corrupt_chunks_raise_filter_error() -> None:
    encoded = ZstdFilter().encode(bytes(range(50)) * 100, 1)
    for bad in (b"", b"abcdefgh", encoded[:-3], encoded[:8] + b"\xff" * 30):
        with pytest.raises(FilterError, match="zstd"):
            ZstdFilter().decode(bad, 1)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(FilterUnavailableError, match=r'zstandard.*pip install "h5swmr\[codecs\]"'):
        FilterPipeline.zstd(3)
