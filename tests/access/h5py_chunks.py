"""Where libhdf5 says each chunk of a dataset is (h5py's ``get_chunk_info``): the oracle for the
chunk-index lookups in access/."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import h5py

from h5swmr.format.chunk_records import ChunkRecord


class StoredChunk(NamedTuple):
    address: int
    size: int
    filter_mask: int


def h5py_chunks(path: Path, name: str) -> dict[tuple[int, ...], StoredChunk]:
    """Scaled chunk coordinates -> where libhdf5 stored that chunk, for every stored chunk."""
    with h5py.File(path, "r") as f:
        ds = f[name]
        chunks = ds.chunks
        found: dict[tuple[int, ...], StoredChunk] = {}

        def visit(info: h5py.h5d.StoreInfo) -> None:
            scaled = tuple(o // c for o, c in zip(info.chunk_offset, chunks, strict=True))
            found[scaled] = StoredChunk(info.byte_offset, info.size, info.filter_mask)

        ds.id.chunk_iter(visit)  # one pass (get_chunk_info(i) walks the index on every call)
        return found


def assert_where_libhdf5_put_them(
    found: Mapping[tuple[int, ...], ChunkRecord], path: Path, name: str, *, filtered: bool
) -> None:
    """``found`` (scaled coordinates -> record of every chunk an index names) holds exactly the
    chunks libhdf5 stored, at their addresses, with their sizes and masks when ``filtered``."""
    stored = h5py_chunks(path, name)
    assert found.keys() == stored.keys(), name
    for scaled, record in found.items():
        want = stored[scaled]
        assert record.address == want.address, (name, scaled)
        if filtered:
            assert (record.size, record.filter_mask) == (want.size, want.filter_mask), scaled
