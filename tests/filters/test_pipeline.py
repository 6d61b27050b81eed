"""FilterPipeline: construction rules, the filter mask, h5py-style properties, libhdf5 as oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters import deflate
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.pipeline import MAX_FILTERS, FilterPipeline
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.format.messages.filter_pipeline import FilterDescription, FilterPipelineMessage

from .oracle import (
    LAYOUTS,
    Layout,
    chunk_of,
    chunk_offsets,
    encode_with_mask,
    read_back_our_chunks,
    read_raw_chunks,
    sample_data,
    stored_filters,
    write_with_h5py,
)
from .refusing import RefusingFilter

SHUFFLE, DEFLATE, FLETCHER = ShuffleFilter(), DeflateFilter(4), Fletcher32Filter()

COMBINATIONS = {
    "shuffle+deflate": FilterPipeline.shuffle_deflate(4),
    "deflate+fletcher32": FilterPipeline.deflate(4).with_fletcher32(),
    "shuffle+deflate+fletcher32": FilterPipeline.shuffle_deflate(4).with_fletcher32(),
    "fletcher32+shuffle+deflate": FilterPipeline.fletcher32_only().with_shuffle().with_deflate(),
    "deflate9+shuffle": FilterPipeline([DeflateFilter(9), SHUFFLE]),
}


# -- construction ---------------------------------------------------------------------------


def test_constructors_give_the_filters_in_order() -> None:
    assert FilterPipeline.deflate().filters == (DeflateFilter(4),)
    assert FilterPipeline.deflate(7).filters == (DeflateFilter(7),)
    assert FilterPipeline.shuffle_deflate().filters == (SHUFFLE, DEFLATE)
    assert FilterPipeline.shuffle_only().filters == (SHUFFLE,)
    assert FilterPipeline.fletcher32_only().filters == (FLETCHER,)
    chained = FilterPipeline.fletcher32_only().with_deflate(2).with_shuffle()
    assert chained.filters == (FLETCHER, DeflateFilter(2), SHUFFLE)
    assert FilterPipeline([SHUFFLE]).with_filter(FLETCHER).filters == (SHUFFLE, FLETCHER)


def test_with_returns_a_copy() -> None:
    base = FilterPipeline.deflate()
    base.with_fletcher32()
    assert base.filters == (DEFLATE,)


def test_equality_hash_and_repr() -> None:
    assert FilterPipeline.shuffle_deflate(4) == FilterPipeline([SHUFFLE, DeflateFilter(4)])
    assert FilterPipeline.shuffle_deflate(4) != FilterPipeline.shuffle_deflate(5)
    assert FilterPipeline([SHUFFLE, DEFLATE]) != FilterPipeline([DEFLATE, SHUFFLE])
    assert FilterPipeline.deflate() != "gzip"
    assert hash(FilterPipeline.deflate(3)) == hash(FilterPipeline([DeflateFilter(3)]))
    text = repr(FilterPipeline.shuffle_deflate(4).with_fletcher32())
    assert text == ("FilterPipeline([ShuffleFilter(), DeflateFilter(level=4), Fletcher32Filter()])")


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ([], "no filters"),
        ([DEFLATE, "shuffle"], "item 1 is 'shuffle', not a Filter"),
        ([DEFLATE, ShuffleFilter, DEFLATE], "item 1"),
        ([SHUFFLE, DEFLATE, DeflateFilter(9)], "repeats filter id 1"),
        ([FLETCHER, FLETCHER], "repeats filter id 3"),
        ([DEFLATE] * (MAX_FILTERS + 1), "33 filters, at most 32"),
        (DEFLATE, "not a sequence"),
    ],
)
def test_invalid_pipelines_are_rejected(filters: Any, words: str) -> None:
    with pytest.raises(FilterError, match=words):
        FilterPipeline(filters)


def test_chaining_a_repeated_filter_is_rejected() -> None:
    with pytest.raises(FilterError, match="repeats"):
        FilterPipeline.shuffle_deflate().with_shuffle()


def test_invalid_level_in_constructors() -> None:
    with pytest.raises(FilterError, match="10"):
        FilterPipeline.deflate(10)
    with pytest.raises(FilterError, match="-1"):
        FilterPipeline.shuffle_deflate(-1)


# -- h5py-style properties ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (FilterPipeline.deflate(6), ("gzip", 6, False, False)),
        (FilterPipeline.shuffle_deflate(4), ("gzip", 4, True, False)),
        (FilterPipeline.shuffle_deflate(1).with_fletcher32(), ("gzip", 1, True, True)),
        (FilterPipeline.shuffle_only(), (None, None, True, False)),
        (FilterPipeline.fletcher32_only(), (None, None, False, True)),
    ],
    ids=repr,
)
def test_h5py_style_properties(pipeline: FilterPipeline, expected: tuple[Any, ...]) -> None:
    got = (pipeline.compression, pipeline.compression_opts, pipeline.shuffle, pipeline.fletcher32)
    assert got == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"compression": "gzip", "compression_opts": 6},
        {"compression": "gzip", "shuffle": True},
        {"compression": "gzip", "compression_opts": 1, "shuffle": True, "fletcher32": True},
        {"shuffle": True},
        {"fletcher32": True},
        {"fletcher32": True, "compression": "gzip"},
    ],
    ids=repr,
)
def test_properties_and_pipeline_match_h5py(kwargs: dict[str, Any], tmp_path: Path) -> None:
    with h5py.File(tmp_path / "props.h5", "w", libver="latest") as file:
        dset = file.create_dataset("data", shape=(8, 8), dtype="<i4", chunks=(4, 8), **kwargs)
        stored = FilterPipelineMessage(tuple(stored_filters(dset)))
        pipeline = FilterPipeline.from_message(stored)
        assert pipeline.describe(4) == stored
        assert pipeline.compression == dset.compression
        assert pipeline.compression_opts == dset.compression_opts
        assert pipeline.shuffle == dset.shuffle
        assert pipeline.fletcher32 == dset.fletcher32


# -- describe / from_message ----------------------------------------------------------------


@pytest.mark.parametrize("pipeline", COMBINATIONS.values(), ids=COMBINATIONS.keys())
@pytest.mark.parametrize("element_size", [1, 2, 3, 8])
def test_describe_round_trip(pipeline: FilterPipeline, element_size: int) -> None:
    message = pipeline.describe(element_size)
    assert [d.filter_id for d in message.filters] == [f.filter_id for f in pipeline.filters]
    assert FilterPipelineMessage.decode(message.encode()) == message
    assert FilterPipeline.from_message(message) == pipeline


@pytest.mark.parametrize(
    ("filter_id", "words"), [(32026, "32026 \\(blosc2\\)"), (12345, "12345"), (4, "4 \\(szip\\)")]
)
def test_unknown_filter_ids_are_named(filter_id: int, words: str) -> None:
    message = FilterPipelineMessage(
        (FilterDescription(1, 1, "", (4,)), FilterDescription(filter_id))
    )
    with pytest.raises(FilterUnavailableError, match=words):
        FilterPipeline.from_message(message)


# -- encode / decode and the filter mask ----------------------------------------------------


def test_round_trip_random_chunks() -> None:
    @settings(max_examples=50, deadline=None)
    @given(
        pipeline=st.sampled_from(list(COMBINATIONS.values())),
        chunk=st.binary(max_size=3000),
        element_size=st.sampled_from([1, 2, 4, 8]),
    )
    def round_trip(pipeline: FilterPipeline, chunk: bytes, element_size: int) -> None:
        encoded, mask = pipeline.encode(chunk, element_size)
        assert mask == 0
        assert pipeline.decode(encoded, element_size) == chunk
        expected = chunk
        for item in pipeline.filters:
            expected = item.encode(expected, element_size)
        assert encoded == expected

    round_trip()


def test_decode_skips_filters_whose_mask_bit_is_set() -> None:
    pipeline = FilterPipeline.shuffle_deflate(4).with_fletcher32()
    chunk = np.arange(100, dtype="<u4").tobytes()
    for mask in range(8):
        stored = encode_with_mask(pipeline, chunk, 4, mask)
        assert pipeline.decode(stored, 4, filter_mask=mask) == chunk
        # bits beyond the pipeline's filters are ignored, as libhdf5 does
        assert pipeline.decode(stored, 4, filter_mask=mask | 0xFFFF_FFF0) == chunk


@pytest.mark.parametrize("mask", [-1, 2**32])
def test_filter_mask_outside_u32(mask: int) -> None:
    with pytest.raises(FilterError, match="filter mask"):
        FilterPipeline.deflate().decode(b"", 1, filter_mask=mask)


def test_optional_filter_that_fails_is_skipped_and_masked() -> None:
    pipeline = FilterPipeline([SHUFFLE, RefusingFilter(), FLETCHER])
    chunk = bytes(range(200))
    stored, mask = pipeline.encode(chunk, 2)
    assert mask == 0b010
    assert stored == FLETCHER.encode(SHUFFLE.encode(chunk, 2), 2)
    assert pipeline.decode(stored, 2, mask) == chunk


def test_mandatory_filter_that_fails_raises() -> None:
    pipeline = FilterPipeline([SHUFFLE, RefusingFilter(mandatory=True)])
    with pytest.raises(FilterError, match="refusing"):
        pipeline.encode(b"abcd", 2)


def test_corrupt_chunk_raises_filter_error() -> None:
    pipeline = FilterPipeline.deflate().with_fletcher32()
    stored, _ = pipeline.encode(b"x" * 1000, 1)
    corrupt = bytearray(stored)
    corrupt[5] ^= 0x40
    with pytest.raises(FilterError, match="fletcher32"):
        pipeline.decode(corrupt, 1)


# -- libhdf5 as the oracle ------------------------------------------------------------------

ORACLE_LAYOUTS = [LAYOUTS[0], LAYOUTS[1], LAYOUTS[2], LAYOUTS[4]]


@pytest.mark.parametrize("layout", ORACLE_LAYOUTS, ids=str)
@pytest.mark.parametrize("name", COMBINATIONS)
def test_oracle_stored_chunks_and_cd_values(
    name: str, layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # byte for byte as libhdf5 only with stdlib zlib (a faster deflate backend writes other bytes)
    monkeypatch.setenv(deflate.BACKEND_ENVIRONMENT_VARIABLE, "zlib")
    deflate.forget_backend_choice()
    try:
        _check_stored_chunks(name, layout, tmp_path)
    finally:
        monkeypatch.undo()
        deflate.forget_backend_choice()


def _check_stored_chunks(name: str, layout: Layout, tmp_path: Path) -> None:
    pipeline = COMBINATIONS[name]
    data = sample_data(layout, seed=3)
    path = tmp_path / "theirs.h5"
    write_with_h5py(path, layout, pipeline.filters, data)
    with h5py.File(path, "r") as file:
        assert stored_filters(file["data"]) == list(pipeline.describe(layout.element_size).filters)
    for offset, (mask, stored) in zip(
        chunk_offsets(layout), read_raw_chunks(path, layout), strict=True
    ):
        raw = chunk_of(data, layout, offset)
        assert pipeline.encode(raw, layout.element_size) == (stored, mask)
        assert pipeline.decode(stored, layout.element_size, mask) == raw


@pytest.mark.parametrize("layout", ORACLE_LAYOUTS, ids=str)
@pytest.mark.parametrize("name", COMBINATIONS)
def test_oracle_h5py_reads_our_chunks(name: str, layout: Layout, tmp_path: Path) -> None:
    data = sample_data(layout, seed=4)
    got = read_back_our_chunks(tmp_path / "ours.h5", layout, COMBINATIONS[name], data)
    assert got.tobytes() == data.tobytes()


def test_oracle_h5py_honours_our_filter_masks(tmp_path: Path) -> None:
    """Each chunk skips a different subset of the filters; h5py must read every one."""
    layout = Layout("<u2", (2048, 8), (256, 8))
    pipeline = FilterPipeline.shuffle_deflate(4).with_fletcher32()
    data = sample_data(layout, seed=5)
    masks = {offset: index % 8 for index, offset in enumerate(chunk_offsets(layout))}
    got = read_back_our_chunks(tmp_path / "masked.h5", layout, pipeline, data, mask_of=masks.get)
    assert got.tobytes() == data.tobytes()
    with h5py.File(tmp_path / "masked.h5", "r") as file:
        dset = file["data"]
        for offset, mask in masks.items():
            got_mask, stored = dset.id.read_direct_chunk(offset)
            assert got_mask == mask
            assert pipeline.decode(stored, 2, got_mask) == chunk_of(data, layout, offset)


def test_declared_size_uses_the_last_filter() -> None:
    chunk = bytes(range(256)) * 40
    for pipeline in (
        FilterPipeline([SHUFFLE]).with_filter(FilterPipeline.lz4().filters[0]),
        FilterPipeline.bitshuffle_lz4(),
        FilterPipeline.bitshuffle_zstd(3),
        FilterPipeline.zstd(3),
        FilterPipeline.blosc(),
    ):
        stored, mask = pipeline.encode(chunk, 2)
        assert mask == 0
        assert pipeline.declared_size(stored) == len(chunk)
    assert FilterPipeline.shuffle_deflate().declared_size(b"anything") is None
    assert FilterPipeline.lz4().with_fletcher32().declared_size(b"anything") is None


def test_describe_fills_blosc_chunk_size_only_when_given() -> None:
    pipeline = FilterPipeline.shuffle_only().with_filter(FilterPipeline.blosc().filters[0])
    assert pipeline.describe(4).filters[1].cd_values[3] == 0
    assert pipeline.describe(4, 4000).filters[1].cd_values[3] == 4000
    assert pipeline.describe(4, 4000).filters[0] == pipeline.describe(4).filters[0]


# -- decoding bounded by the chunk's size --------------------------------------------------------


@pytest.mark.parametrize(
    "pipeline",
    [
        FilterPipeline.shuffle_deflate(4).with_fletcher32(),
        FilterPipeline.lz4(),
        FilterPipeline.bitshuffle_lz4(),
        FilterPipeline.bitshuffle_zstd(),
        FilterPipeline.zstd(),
        FilterPipeline.blosc(),
    ],
    ids=repr,
)
def test_decode_with_expected_size_refuses_a_bigger_chunk(pipeline: FilterPipeline) -> None:
    chunk = np.zeros(4096, "<u2").tobytes()
    stored, mask = pipeline.encode(chunk, 2)
    assert pipeline.decode(stored, 2, mask, expected=len(chunk)) == chunk
    with pytest.raises(FilterError, match=r"more than|decodes to"):
        pipeline.decode(stored, 2, mask, expected=len(chunk) // 2)


def test_deflate_stops_inflating_at_the_limit() -> None:
    stream = deflate.inflate(DeflateFilter(9).encode(bytes(1 << 24), 1), None)
    assert len(stream) == 1 << 24
    bomb = DeflateFilter(9).encode(bytes(1 << 24), 1)
    with pytest.raises(FilterError, match="more than the 1000 bytes"):
        deflate.inflate(bomb, 1000)
    with pytest.raises(FilterError, match="ends inside its zlib stream"):
        deflate.inflate(bomb[: len(bomb) // 2], 1 << 24)
