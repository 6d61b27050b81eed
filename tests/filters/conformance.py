"""FilterTests: the battery every filter's test module subclasses.

A subclass sets ``instances`` (the filter objects to check, e.g. several deflate levels). The
battery checks round trips on random bytes, the stored description, and libhdf5 as the oracle:
libhdf5's stored chunks equal our encoding, h5py reads the chunks we encode, our decode reads the
chunks libhdf5 wrote, and the cd_values and flags libhdf5 stores equal ours.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.filters.base import Filter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.registry import filter_class
from h5swmr.format.messages.filter_pipeline import FilterPipelineMessage

from .oracle import (
    CODEC_LAYOUTS,
    LAYOUTS,
    Layout,
    chunk_of,
    chunk_offsets,
    read_back_our_chunks,
    read_raw_chunks,
    sample_data,
    stored_filters,
    write_with_h5py,
)

ELEMENT_SIZES = (1, 2, 4, 8)


class FilterTests:
    """Subclass as ``class TestDeflate(FilterTests)`` and set ``instances``."""

    instances: ClassVar[tuple[Filter, ...]]
    byte_identical: ClassVar[bool] = True
    """Our encoding equals libhdf5's (encoded on a worker thread, as on the writer's executor);
    else only decoding both ways is checked."""
    whole_elements: ClassVar[bool] = False
    """The filter encodes whole elements only (bitshuffle): round trips use such lengths."""
    may_refuse: ClassVar[bool] = False
    """The filter refuses chunks it cannot shrink (blosc): round trips go through the pipeline."""

    def round_trip(self, item: Filter, chunk: bytes, element_size: int) -> None:
        if self.whole_elements:
            chunk = chunk[: len(chunk) // element_size * element_size]
        if self.may_refuse:
            pipeline = FilterPipeline([item])
            encoded, mask = pipeline.encode(chunk, element_size)
            assert pipeline.decode(encoded, element_size, mask) == chunk
            return
        encoded = item.encode(chunk, element_size)
        assert isinstance(encoded, bytes)
        assert item.decode(encoded, element_size) == chunk

    # -- round trips ------------------------------------------------------------------------

    def test_round_trip_random_bytes(self) -> None:
        # A @given inside the test: hypothesis rejects one @given method run by many subclasses.
        @settings(max_examples=60, deadline=None)
        @given(
            item=st.sampled_from(self.instances),
            chunk=st.binary(max_size=3000),
            element_size=st.sampled_from(ELEMENT_SIZES),
        )
        def round_trip(item: Filter, chunk: bytes, element_size: int) -> None:
            self.round_trip(item, chunk, element_size)

        round_trip()

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 7, 719, 720, 721, 8191, 8193])
    @pytest.mark.parametrize("element_size", ELEMENT_SIZES)
    def test_round_trip_odd_lengths(self, size: int, element_size: int) -> None:
        chunk = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
        for item in self.instances:
            self.round_trip(item, chunk, element_size)

    @pytest.mark.parametrize("kind", [bytearray, memoryview])
    def test_accepts_any_bytes_like(self, kind: type[bytearray] | type[memoryview]) -> None:
        chunk = bytes(range(256)) * 5
        for item in self.instances:
            encoded = item.encode(kind(chunk), 4)
            assert encoded == item.encode(chunk, 4)
            assert item.decode(kind(encoded), 4) == chunk

    def test_filter_is_frozen_value(self) -> None:
        for item in self.instances:
            assert item == type(item).from_cd_values(item.cd_values(2))
            assert hash(item) == hash(type(item).from_cd_values(item.cd_values(2)))
            assert type(item).__name__ in repr(item)
            assert dataclasses.is_dataclass(item)
            for field in dataclasses.fields(item):
                with pytest.raises(dataclasses.FrozenInstanceError):
                    setattr(item, field.name, getattr(item, field.name))

    # -- the stored description -------------------------------------------------------------

    @pytest.mark.parametrize("element_size", ELEMENT_SIZES)
    def test_describe_round_trip(self, element_size: int) -> None:
        for item in self.instances:
            description = item.describe(element_size)
            assert description.filter_id == item.filter_id
            assert description.is_optional == item.optional
            assert description.name == item.name  # libhdf5's own filters store none
            assert filter_class(description.filter_id) is type(item)
            assert type(item).from_cd_values(description.cd_values) == item
            message = FilterPipelineMessage((description,))
            assert FilterPipelineMessage.decode(message.encode()) == message
            assert FilterPipeline.from_message(message) == FilterPipeline([item])

    # -- libhdf5 as the oracle --------------------------------------------------------------

    @pytest.mark.parametrize("layout", LAYOUTS, ids=str)
    def test_oracle_cd_values_and_flags(self, layout: Layout, tmp_path: Path) -> None:
        for item in self.instances:
            path = tmp_path / "cd.h5"
            write_with_h5py(path, layout, [item], sample_data(layout))
            with h5py.File(path, "r") as file:
                stored = stored_filters(file["data"])
            chunk_bytes = int(np.prod(layout.chunks)) * layout.element_size
            assert stored == _unnamed(FilterPipeline([item]), layout.element_size, chunk_bytes)

    @pytest.mark.parametrize("layout", LAYOUTS, ids=str)
    def test_oracle_encode_equals_libhdf5_chunks(self, layout: Layout, tmp_path: Path) -> None:
        check_libhdf5_chunks(self.instances, layout, tmp_path, byte_identical=self.byte_identical)

    @pytest.mark.parametrize("layout", LAYOUTS, ids=str)
    def test_oracle_h5py_reads_our_chunks(self, layout: Layout, tmp_path: Path) -> None:
        data = sample_data(layout)
        for item in self.instances:
            got = read_back_our_chunks(tmp_path / "ours.h5", layout, FilterPipeline([item]), data)
            assert got.dtype == data.dtype
            assert got.tobytes() == data.tobytes(), item


def _unnamed(pipeline: FilterPipeline, element_size: int, chunk_bytes: int) -> list[object]:
    message = pipeline.describe(element_size, chunk_bytes)
    return [dataclasses.replace(d, name="") for d in message.filters]


def check_libhdf5_chunks(
    instances: tuple[Filter, ...], layout: Layout, tmp_path: Path, *, byte_identical: bool
) -> None:
    """libhdf5 (with hdf5plugin) writes ``sample_data``: we decode its chunks and read their
    declared sizes; if ``byte_identical``, our encoding equals each stored chunk and its mask."""
    data = sample_data(layout)
    es = layout.element_size
    for item in instances:
        pipeline = FilterPipeline([item])
        path = tmp_path / "theirs.h5"
        write_with_h5py(path, layout, [item], data)
        with ThreadPoolExecutor(1) as executor:
            for offset, (mask, stored) in zip(
                chunk_offsets(layout), read_raw_chunks(path, layout), strict=True
            ):
                raw = chunk_of(data, layout, offset)
                assert pipeline.decode(stored, es, mask) == raw, (item, offset)
                if not mask:
                    assert pipeline.declared_size(stored) in (len(raw), None), (item, offset)
                if byte_identical:
                    ours = executor.submit(pipeline.encode, raw, es).result()
                    assert ours == (stored, mask), (item, offset)


class CodecTests(FilterTests):
    """FilterTests plus hdf5plugin as the oracle over every dtype and odd chunk shape."""

    def test_names_are_hdf5plugins(self, tmp_path: Path) -> None:
        layout = LAYOUTS[0]
        for item in self.instances:
            write_with_h5py(tmp_path / "n.h5", layout, [item], sample_data(layout))
            with h5py.File(tmp_path / "n.h5", "r") as file:
                plist = file["data"].id.get_create_plist()
                assert plist.get_filter(0)[3].decode() == item.name

    @pytest.mark.parametrize("layout", CODEC_LAYOUTS[len(LAYOUTS) :], ids=str)
    def test_hdf5plugin_oracle(self, layout: Layout, tmp_path: Path) -> None:
        data = sample_data(layout)
        es = layout.element_size
        chunk_bytes = int(np.prod(layout.chunks)) * es
        for item in self.instances:
            write_with_h5py(tmp_path / "cd.h5", layout, [item], data)
            with h5py.File(tmp_path / "cd.h5", "r") as file:
                assert stored_filters(file["data"]) == _unnamed(
                    FilterPipeline([item]), es, chunk_bytes
                )
                assert file["data"][...].tobytes() == data.tobytes()
            got = read_back_our_chunks(tmp_path / "ours.h5", layout, FilterPipeline([item]), data)
            assert got.tobytes() == data.tobytes(), item
        check_libhdf5_chunks(self.instances, layout, tmp_path, byte_identical=self.byte_identical)
