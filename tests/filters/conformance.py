"""FilterTests: the battery every filter's test module subclasses.

A subclass sets ``instances`` (the filter objects to check, e.g. several deflate levels). The
battery checks round trips on random bytes, the stored description, and libhdf5 as the oracle:
libhdf5's stored chunks equal our encoding, h5py reads the chunks we encode, our decode reads the
chunks libhdf5 wrote, and the cd_values and flags libhdf5 stores equal ours.
"""

from __future__ import annotations

import dataclasses
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
            encoded = item.encode(chunk, element_size)
            assert isinstance(encoded, bytes)
            assert item.decode(encoded, element_size) == chunk

        round_trip()

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 7, 719, 720, 721, 8191, 8193])
    @pytest.mark.parametrize("element_size", ELEMENT_SIZES)
    def test_round_trip_odd_lengths(self, size: int, element_size: int) -> None:
        chunk = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
        for item in self.instances:
            assert item.decode(item.encode(chunk, element_size), element_size) == chunk

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
            assert description.name == ""  # libhdf5's own filters store no name
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
            assert stored == [item.describe(layout.element_size)]

    @pytest.mark.parametrize("layout", LAYOUTS, ids=str)
    def test_oracle_encode_equals_libhdf5_chunks(self, layout: Layout, tmp_path: Path) -> None:
        data = sample_data(layout)
        for item in self.instances:
            path = tmp_path / "theirs.h5"
            write_with_h5py(path, layout, [item], data)
            for offset, (mask, stored) in zip(
                chunk_offsets(layout), read_raw_chunks(path, layout), strict=True
            ):
                raw = chunk_of(data, layout, offset)
                assert mask == 0
                assert item.encode(raw, layout.element_size) == stored, (item, offset)
                assert item.decode(stored, layout.element_size) == raw, (item, offset)

    @pytest.mark.parametrize("layout", LAYOUTS, ids=str)
    def test_oracle_h5py_reads_our_chunks(self, layout: Layout, tmp_path: Path) -> None:
        data = sample_data(layout)
        for item in self.instances:
            got = read_back_our_chunks(tmp_path / "ours.h5", layout, FilterPipeline([item]), data)
            assert got.dtype == data.dtype
            assert got.tobytes() == data.tobytes(), item
