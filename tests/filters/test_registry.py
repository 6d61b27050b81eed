"""registry: filter id -> class, and CLI compression strings."""

from __future__ import annotations

import pytest

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.compression import parse_compression
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.registry import filter_class, filter_from_description
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.format.constants import FilterId
from h5swmr.format.messages.filter_pipeline import FilterDescription


def test_filter_classes_by_id() -> None:
    assert filter_class(FilterId.DEFLATE) is DeflateFilter
    assert filter_class(2) is ShuffleFilter
    assert filter_class(3) is Fletcher32Filter


def test_filter_from_description() -> None:
    assert filter_from_description(FilterDescription(1, 1, "", (9,))) == DeflateFilter(9)
    assert filter_from_description(FilterDescription(2, 1, "", (8,))) == ShuffleFilter()


@pytest.mark.parametrize("filter_id", [FilterId.SZIP, FilterId.BLOSC2, 0, 999, 65535])
def test_unknown_id_names_the_id(filter_id: int) -> None:
    with pytest.raises(FilterUnavailableError, match=str(int(filter_id))) as info:
        filter_class(filter_id)
    assert isinstance(info.value, ImportError)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", None),
        ("NONE ", None),
        ("deflate", FilterPipeline.deflate(4)),
        ("deflate:4", FilterPipeline.deflate(4)),
        ("deflate:0", FilterPipeline.deflate(0)),
        ("gzip:9", FilterPipeline.deflate(9)),
        ("gzip", FilterPipeline.deflate(4)),
        ("shuffle-deflate:4", FilterPipeline.shuffle_deflate(4)),
        ("shuffle-deflate", FilterPipeline.shuffle_deflate(4)),
        ("Shuffle-Deflate:6", FilterPipeline.shuffle_deflate(6)),
        ("shuffle-gzip:1", FilterPipeline.shuffle_deflate(1)),
    ],
)
def test_parse_compression(spec: str, expected: FilterPipeline | None) -> None:
    assert parse_compression(spec) == expected


@pytest.mark.parametrize("spec", ["lzf", "bitshuffle", "", "deflate-shuffle", "none:1"])
def test_unknown_names_list_the_accepted_ones(spec: str) -> None:
    with pytest.raises(FilterError, match="accepted: none, deflate\\[:level\\], gzip") as info:
        parse_compression(spec)
    assert "shuffle-deflate[:level]" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "words"), [("deflate:x", "'x'"), ("gzip:10", "10"), ("deflate:", "''")]
)
def test_bad_levels(spec: str, words: str) -> None:
    with pytest.raises(FilterError, match=words):
        parse_compression(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("lz4", FilterPipeline.lz4()),
        ("lz4", FilterPipeline.lz4(256 * 1024)),
        ("lz4:0", FilterPipeline.lz4(0)),
        ("LZ4:1048576", FilterPipeline.lz4(1 << 20)),
        ("bslz4", FilterPipeline.bitshuffle_lz4()),
        ("zstd", FilterPipeline.zstd(3)),
        ("zstd:9", FilterPipeline.zstd(9)),
        ("zstd:-3", FilterPipeline.zstd(-3)),
        ("bszstd", FilterPipeline.bitshuffle_zstd(3)),
        ("BSZSTD:5", FilterPipeline.bitshuffle_zstd(5)),
        ("blosc", FilterPipeline.blosc()),
        ("blosc:zstd", FilterPipeline.blosc("zstd")),
        ("blosc:zstd:7", FilterPipeline.blosc("zstd", 7)),
        ("blosc:blosclz:9:bit", FilterPipeline.blosc("blosclz", 9, "bit")),
        ("blosc:lz4::none", FilterPipeline.blosc("lz4", 5, "none")),
    ],
)
def test_parse_codecs(spec: str, expected: FilterPipeline) -> None:
    assert parse_compression(spec) == expected


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("lz4:x", "'x'"),
        ("lz4:-1", "-1"),
        ("lz4:", "empty"),
        ("bslz4:1", "no options"),
        ("zstd:x", "'x'"),
        ("zstd:", "empty"),
        ("zstd:23", "23"),
        ("blosc:lz5", "lz5"),
        ("blosc:lz4:5:bits", "bits"),
        ("blosc:lz4:5:bit:1", "cname"),
    ],
)
def test_bad_codec_specs(spec: str, words: str) -> None:
    with pytest.raises(FilterError, match=words) as info:
        parse_compression(spec)
    assert spec in str(info.value)


def test_unknown_names_list_the_codecs() -> None:
    with pytest.raises(FilterError, match=r"bszstd\[:level\], blosc\[:cname"):
        parse_compression("lzf")


def test_codec_classes_by_id() -> None:
    from h5swmr.filters.bitshuffle import BitshuffleFilter
    from h5swmr.filters.blosc import BloscFilter
    from h5swmr.filters.lz4 import LZ4Filter
    from h5swmr.filters.zstd import ZstdFilter

    assert filter_class(32001) is BloscFilter
    assert filter_class(32004) is LZ4Filter
    assert filter_class(32008) is BitshuffleFilter
    assert filter_class(32015) is ZstdFilter
