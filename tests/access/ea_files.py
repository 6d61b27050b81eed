"""Datasets with an extensible-array chunk index for the access and writer tests, written by
libhdf5 (h5py) or by h5swmr (whose smaller pages are reached sooner); h5py reports the records."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from h5swmr import SwmrFileWriter
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.object_header import ObjectHeader, find_message

N_CHUNKS = {"plain": 2500, "gzip": 700, "h5swmr": 9000}
"""2500 chunks reach libhdf5's super blocks; 9000 reach well into h5swmr's paged data blocks (64
elements a page; libhdf5's own pages start past 131056 chunks)."""


def write_ea_file(path: Path, kind: str) -> None:
    n = N_CHUNKS[kind]
    if kind == "h5swmr":
        with SwmrFileWriter.create(path) as w:
            ds = w.create_streaming_dataset("d", "i8", (1,))
            w.start_swmr()
            for i in range(n):
                w.append_frame(ds, np.full((1,), i, "i8"))
        return
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset(
            "d",
            shape=(n,),
            maxshape=(None,),
            chunks=(1,),
            dtype="i8",
            compression="gzip" if kind == "gzip" else None,
        )
        values = np.arange(n, dtype="i8")
        values[::7] = 0  # every 7th chunk holds only fill: libhdf5 still writes it
        ds[:] = values


def layout_of(path: Path) -> ChunkedLayoutMessage:
    with h5py.File(path, "r") as f:
        address = h5py.h5o.get_info(f["d"].id).addr
    data = path.read_bytes()
    header = ObjectHeader.decode(data[address:], address=address)
    raw = find_message(header.messages, MessageType.LAYOUT)
    assert raw is not None
    layout = decode_layout(raw.body)
    assert isinstance(layout, ChunkedLayoutMessage)
    return layout


def libhdf5_records(path: Path) -> dict[int, tuple[int, int, int]]:
    """Chunk index -> (address, stored size, filter mask) as libhdf5 reports them."""
    found = {}
    with h5py.File(path, "r") as f:

        def visit(info: h5py.h5d.StoreInfo) -> None:
            found[info.chunk_offset[0]] = (info.byte_offset, info.size, info.filter_mask)

        f["d"].id.chunk_iter(visit)
    return found
