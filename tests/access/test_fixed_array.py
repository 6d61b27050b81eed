"""Fixed array lookups (access/fixed_array.py): records by linear index where libhdf5 says each
chunk is, in one data block or in pages, with runs of addresses for the frame reader."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.access.fixed_array import FixedArrayLookup
from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS
from tests.access.h5py_chunks import assert_where_libhdf5_put_them, h5py_chunks
from tests.reader.objects import chunked_layout, dataset_state


@pytest.fixture(scope="module")
def latest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fixed_array") / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:  # fixed maxshape: a fixed array index
        f.create_dataset("block", data=np.arange(30 * 20).reshape(30, 20), chunks=(7, 6))
        paged = f.create_dataset("paged", shape=(4100,), chunks=(1,), dtype="i1")  # 4100 > 1024
        paged[:2000] = 1  # pages past element 2000 never written
        f.create_dataset("gzip", data=np.arange(3000, dtype="i4"), chunks=(2,), compression="gzip")
    return path


@pytest.mark.parametrize("name", ["block", "paged", "gzip"])
def test_records_where_libhdf5_put_them(latest: Path, name: str) -> None:
    with dataset_state(latest, name) as (src, state):
        layout = chunked_layout(state)
        counts = tuple(-(-d // c) for d, c in zip(state.dims, layout.chunk_dims, strict=True))
        lookup = FixedArrayLookup(src, layout.index_address)
        n = lookup.header.n_elements
        assert n == int(np.prod(counts))
        records = {i: lookup.lookup(i) for i in range(n)}
        assert lookup.lookup(-1) is None and lookup.lookup(n) is None
    found = {
        tuple(int(i) for i in np.unravel_index(index, counts)): record
        for index, record in records.items()
        if record is not None
    }
    assert_where_libhdf5_put_them(found, latest, name, filtered=state.pipeline is not None)


def test_address_runs_in_pages(latest: Path) -> None:
    stored = h5py_chunks(latest, "paged")
    with dataset_state(latest, "paged") as (src, state):
        layout = chunked_layout(state)
        lookup = FixedArrayLookup(src, layout.index_address)
        assert lookup.header.n_pages > 1
        first, addresses = lookup.address_run(1500)
        assert first <= 1500 < first + len(addresses) and len(addresses) > 1
        assert addresses[1500 - first] == stored[(1500,)].address
        assert lookup.address_run(4000)[1].tolist() == [UNDEFINED_ADDRESS]  # a page never written
        assert lookup.address_run(5000)[1].tolist() == [UNDEFINED_ADDRESS]  # past the end


def test_h5swmr_grid_and_a_header_that_is_not_one(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        grid = w.create_grid_dataset("grid", "u2", (6, 8), (3, 4))
        w.start_swmr()
        w.write_chunk_at(grid, (1, 1), np.full((3, 4), 9, "u2"))
    stored = h5py_chunks(tmp_h5, "grid")
    with dataset_state(tmp_h5, "grid") as (src, state):
        layout = chunked_layout(state)
        lookup = FixedArrayLookup(src, layout.index_address)
        records = [lookup.lookup(i) for i in range(4)]
        assert records[:3] == [None, None, None]
        assert records[3] is not None and records[3].address == stored[(1, 1)].address
        with pytest.raises(FormatError):  # the dataset's header is no fixed array header
            FixedArrayLookup(src, state.address)
