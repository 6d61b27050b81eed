"""Where libhdf5 says each chunk of a dataset is (h5py's ``get_chunk_info``): the oracle for the
chunk-index lookups in access/."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import h5py


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
