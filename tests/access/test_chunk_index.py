"""open_chunk_index (access/chunk_index.py): every index kind libhdf5 and h5swmr write gives each
chunk's record where libhdf5 says the chunk is, and None for chunks never written."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.access.chunk_index import open_chunk_index, row_addresses
from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS, UNLIMITED
from tests.access.h5py_chunks import assert_where_libhdf5_put_them, h5py_chunks
from tests.reader.objects import chunked_layout, dataset_state

CHUNKED = ["single", "single_gzip", "fixed", "fixed_paged", "fixed_filtered", "maxshape_n",
           "sparse", "implicit", "ea", "bt2", "bt2_gzip"]  # fmt: skip


def _assert_index_matches(path: Path, name: str) -> None:
    with dataset_state(path, name) as (_, state):
        assert state.index is not None
        chunk = chunked_layout(state).chunk_dims
        grid = [range(-(-d // c)) for d, c in zip(state.dims, chunk, strict=True)]
        records = {scaled: state.index.lookup(scaled) for scaled in itertools.product(*grid)}
    found = {scaled: record for scaled, record in records.items() if record is not None}
    assert_where_libhdf5_put_them(found, path, name, filtered=state.pipeline is not None)


@pytest.mark.parametrize("name", CHUNKED)
def test_every_chunk_where_libhdf5_put_it(h5py_file: Path, name: str) -> None:
    _assert_index_matches(h5py_file, name)


def test_h5swmr_indexes(tmp_h5: Path) -> None:
    """The extensible array of a stream (with a frame never written at the end of a chunk) and
    the fixed array of a grid dataset."""
    with SwmrFileWriter.create(tmp_h5) as w:
        stream = w.create_streaming_dataset_chunked("stream", "u2", (3, 4), (2, 3, 4))
        grid = w.create_grid_dataset("grid", "i4", (6, 8), (3, 4))
        w.start_swmr()
        for i in range(7):
            w.append_frame(stream, np.full((3, 4), i, "u2"))
        w.write_chunk_at(grid, (1, 0), np.ones((3, 4), "i4"))
    _assert_index_matches(tmp_h5, "stream")
    _assert_index_matches(tmp_h5, "grid")
    with dataset_state(tmp_h5, "stream") as (_, state):
        assert state.index is not None
        first, addresses = row_addresses(state.index, 1, 3)
        stored = h5py_chunks(tmp_h5, "stream")
        assert addresses[1 - first] == stored[(1, 0, 0)].address
        assert UNDEFINED_ADDRESS not in addresses[: 4 - first].tolist()


def test_a_layout_that_does_not_fit_the_dataspace_is_refused(h5py_file: Path) -> None:
    with dataset_state(h5py_file, "ea") as (src, state):
        layout = chunked_layout(state)
        with pytest.raises(FormatError, match="layout of rank 2 for a dataset of rank 3"):
            open_chunk_index(src, layout, (*state.dims, 1), (*state.maxdims, 1), filtered=False)
        if "latest" in h5py_file.name:  # an extensible array needs exactly one unlimited dim
            with pytest.raises(
                FormatError, match=r"extensible array index with unlimited dims \[\]"
            ):
                open_chunk_index(src, layout, state.dims, state.dims, filtered=False)
            with pytest.raises(FormatError, match=r"unlimited dims \[0, 1\]"):
                open_chunk_index(src, layout, state.dims, (UNLIMITED, UNLIMITED), filtered=False)
