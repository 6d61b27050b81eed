"""BloscFilter (32001): the battery with hdf5plugin as oracle, set_local's cd_values, refusals."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.blosc import BloscCompressor, BloscFilter, BloscShuffle
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import FilterId

from .conformance import CodecTests

C, S = BloscCompressor, BloscShuffle


class TestBloscFilter(CodecTests):
    may_refuse = True
    instances = (
        BloscFilter(),
        BloscFilter(C.BLOSCLZ, 9, S.BIT),
        BloscFilter(C.ZSTD, 3, S.NONE),
        BloscFilter(C.ZLIB, 1, S.BYTE),
        BloscFilter(C.LZ4HC, 5, S.BIT),
    )


def test_constructor_and_cd_values() -> None:
    assert FilterPipeline.blosc().filters == (BloscFilter(C.LZ4, 5, S.BYTE),)
    assert FilterPipeline.blosc("zstd", 7, "bit").filters == (BloscFilter(C.ZSTD, 7, S.BIT),)
    assert BloscFilter.filter_id == FilterId.BLOSC
    assert int(FilterId.BLOSC) == 32001
    message = FilterPipeline.blosc().describe(2, 8192)
    assert message.filters[0].cd_values == (2, 2, 2, 8192, 5, 1, 1)
    assert message.filters[0].name == "blosc"
    assert FilterPipeline.blosc().describe(300, 3000).filters[0].cd_values[2:4] == (1, 10)
    assert BloscFilter.from_cd_values((2, 2, 4, 100)) == BloscFilter(C.BLOSCLZ, 5, S.BYTE, 100)


def test_incompressible_chunks_are_left_unfiltered() -> None:
    chunk = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(FilterError, match="does not shrink"):
        BloscFilter().encode(chunk, 1)
    assert FilterPipeline.blosc().encode(chunk, 1) == (chunk, 1)


def test_declared_size() -> None:
    encoded = BloscFilter().encode(bytes(6000), 4)
    assert FilterPipeline.blosc().declared_size(encoded) == 6000
    with pytest.raises(FilterError, match="header"):
        FilterPipeline.blosc().declared_size(encoded[:10])


@pytest.mark.parametrize(
    ("args", "words"),
    [(("lz5",), "cname"), (("lz4", 10), "level"), (("lz4", 5, "bits"), "shuffle")],
)
def test_invalid_parameters(args: tuple[object, ...], words: str) -> None:
    with pytest.raises(FilterError, match=words):
        FilterPipeline.blosc(*args)  # type: ignore[arg-type]


def test_corrupt_chunks_raise_filter_error() -> None:
    encoded = BloscFilter().encode(bytes(range(50)) * 100, 1)
    for bad in (encoded[:10], encoded[:-1], encoded + b"x", b"\x09" + encoded[1:]):
        with pytest.raises(FilterError, match="blosc"):
            BloscFilter().decode(bad, 1)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numcodecs.blosc", None)
    with pytest.raises(FilterUnavailableError, match=r'pip install "h5swmr\[codecs\]"'):
        FilterPipeline.blosc()
