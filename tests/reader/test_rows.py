"""Runs of rows into numpy (reader/rows.py): compact, contiguous and chunked layouts, edge
chunks, unwritten chunks, filtered chunks, and the limits that keep a corrupt file's sizes from
taking memory or time. Files from libhdf5 (h5py) and h5swmr; h5py reads the same rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import FormatError
from h5swmr.format.messages.layout import CompactLayoutMessage, ContiguousLayoutMessage
from h5swmr.reader.rows import MIN_CHUNK_VISITS, check_allocation, read_rows
from tests.reader.objects import dataset_state

LIMIT = 1 << 30
ROWS = [(0, 1), (0, 7), (2, 5), (6, 7), (3, 3)]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rows") / "layouts.h5"
    data = np.arange(7 * 5 * 3, dtype="<i4").reshape(7, 5, 3)
    with h5py.File(path, "w", libver="latest") as f:
        compact = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        compact.set_layout(h5py.h5d.COMPACT)
        small = data[:, :2, :2].copy()
        space = h5py.h5s.create_simple(small.shape)
        h5py.h5d.create(f.id, b"compact", h5py.h5t.py_create(small.dtype), space, dcpl=compact)
        f["compact"][...] = small
        f.create_dataset("contiguous", data=data)
        f.create_dataset("unallocated", shape=(7, 5, 3), dtype="<i4", fillvalue=-4)
        f.create_dataset("whole_rows", data=data, chunks=(2, 5, 3))
        f.create_dataset("edges", data=data, chunks=(3, 2, 2))  # partial chunks on every axis
        f.create_dataset("gzip", data=data, chunks=(2, 3, 3), compression="gzip")
        # rows 1 and 5 written, stored back to back; rows 2-4 never written: fill between them
        sparse = f.create_dataset("sparse", shape=(7, 5, 3), chunks=(1, 5, 3), dtype="<i4")
        sparse[1] = data[1]
        sparse[5] = data[5]
        sparse_1d = f.create_dataset("sparse_1d", shape=(7,), chunks=(1,), dtype="<i4")
        sparse_1d[1], sparse_1d[5] = 11, 55  # the same gap, one element a row
        f.create_dataset("scalar", data=np.float64(2.5))
    return path


@pytest.mark.parametrize(
    "name",
    ["compact", "contiguous", "unallocated", "whole_rows", "edges", "gzip", "sparse", "sparse_1d"],
)
def test_rows_as_h5py_reads_them(layouts: Path, name: str) -> None:
    with h5py.File(layouts, "r") as f:
        want = f[name][()]
    with dataset_state(layouts, name) as (src, state):
        for start, stop in ROWS:
            got = read_rows(src, state, start, stop, LIMIT)
            assert got.dtype == want.dtype, (name, start, stop)
            np.testing.assert_array_equal(got, want[start:stop])


def test_rank_0_reads_the_one_element(layouts: Path) -> None:
    with dataset_state(layouts, "scalar") as (src, state):
        got = read_rows(src, state, 0, 0, LIMIT)
    assert got.shape == () and got == 2.5


def test_rows_h5swmr_wrote_in_tiles(tmp_h5: Path) -> None:
    frames = np.arange(5 * 6 * 10, dtype="<u2").reshape(5, 6, 10)
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset_tiled("t", "u2", (6, 10), (4, 4))
        w.start_swmr()
        for frame in frames:
            w.append_frame(ds, frame)
    with dataset_state(tmp_h5, "t") as (src, state):
        np.testing.assert_array_equal(read_rows(src, state, 1, 4, LIMIT), frames[1:4])


def test_a_result_over_the_limit_is_refused(layouts: Path) -> None:
    with dataset_state(layouts, "contiguous") as (src, state):
        row = 5 * 3 * 4
        assert read_rows(src, state, 0, 2, 2 * row).shape == (2, 5, 3)
        with pytest.raises(
            FormatError, match=r"rows 0:3: 180 bytes requested, more than the limit of 120"
        ):
            read_rows(src, state, 0, 3, 2 * row)
    check_allocation(10, 10, "exactly")
    with pytest.raises(FormatError, match="one chunk: 11 bytes"):
        check_allocation(11, 10, "one chunk")


def test_too_many_chunks_to_visit_is_refused_before_any_lookup(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.create_dataset("tiny", shape=(2, 1 << 18), chunks=(1, 1), dtype="u1")  # nothing written
    with dataset_state(tmp_h5, "tiny") as (src, state):
        with pytest.raises(
            FormatError, match=f"chunks to visit, more than the limit of {MIN_CHUNK_VISITS}"
        ):
            read_rows(src, state, 0, 1, 1 << 20)
        assert read_rows(src, state, 0, 1, 1 << 30).sum() == 0  # a larger budget allows it


def test_storage_smaller_than_the_dataspace_is_refused(layouts: Path) -> None:
    with dataset_state(layouts, "compact") as (src, state):
        layout = state.layout
        assert isinstance(layout, CompactLayoutMessage)
        short = replace(state, layout=CompactLayoutMessage(layout.data[:-1]))
        with pytest.raises(FormatError, match="compact data of 111 bytes, need 112"):
            read_rows(src, short, 0, 1, LIMIT)
    with dataset_state(layouts, "contiguous") as (src, state):
        layout = state.layout
        assert isinstance(layout, ContiguousLayoutMessage)
        short = replace(state, layout=replace(layout, size=layout.size - 4))
        with pytest.raises(FormatError, match="contiguous storage of 416 bytes, need 420"):
            read_rows(src, short, 0, 1, LIMIT)
