"""libhdf5 as the oracle, through h5py: datasets written with given filters; their raw chunks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import h5py
import hdf5plugin
import numpy as np
import numpy.typing as npt

from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleCompression, BitshuffleFilter
from h5swmr.filters.blosc import BloscCompressor, BloscFilter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.filters.zstd import ZstdFilter
from h5swmr.format.messages.filter_pipeline import FilterDescription

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Layout:
    """A small chunked dataset: dtype, shape and chunk shape (the shape a multiple of the chunk)."""

    dtype: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]

    @property
    def element_size(self) -> int:
        return numpy_dtype(self).itemsize

    def __str__(self) -> str:
        return f"{self.dtype}{list(self.shape)}/{list(self.chunks)}"


COMPOUND_3 = np.dtype([("a", "u1"), ("b", "<u2")])
"""A packed 3-byte element: shuffle of an odd element size."""

LAYOUTS = (
    Layout("<u2", (2048, 8), (512, 8)),  # 4096 words a chunk: one whole vectorised row
    Layout("<f4", (256, 24), (64, 24)),
    Layout("<i8", (96, 40), (24, 40)),  # 7680 bytes: rows of 4096 words, blocks of 360
    Layout("|u1", (63, 5), (21, 5)),  # 105 bytes: odd lengths for fletcher32
    Layout("compound3", (40, 7), (20, 7)),  # 3-byte elements
)


CODEC_LAYOUTS = (
    *LAYOUTS,
    Layout("|i1", (4, 33, 17), (2, 33, 17)),  # frames of 561 elements: not a multiple of 8
    Layout("<i2", (2, 40, 30), (1, 20, 15)),  # tiles of 300 elements
    Layout("<u4", (3, 7, 5), (1, 7, 5)),  # 35 elements: smaller than one bitshuffle block
    Layout("<i4", (2, 64, 70), (1, 64, 70)),  # 4480 elements: more than one block
    Layout("<u8", (4, 9, 11), (2, 9, 11)),
    Layout("<f2", (2, 50, 50), (1, 50, 50)),
    Layout("<f8", (3, 17, 19), (1, 17, 19)),
    Layout("<c8", (2, 31, 13), (1, 31, 13)),
    Layout("<c16", (2, 600, 3), (1, 600, 3)),  # 28800 bytes: several blocks of 16-byte elements
    Layout("|b1", (2, 1000, 9), (1, 1000, 9)),
)
"""Dtypes of 1 to 16 bytes, tiles and multi-frame chunks of odd sizes, chunks below a block."""


def numpy_dtype(layout: Layout) -> np.dtype[Any]:
    return COMPOUND_3 if layout.dtype == "compound3" else np.dtype(layout.dtype)


def sample_data(layout: Layout, seed: int = 0) -> Array:
    """Compressible data (a random walk), with the second chunk row all 0xff bytes.

    All-0xff words are 0 modulo 65535: Fletcher-32 must give 0xffff there, not 0.
    """
    dtype = numpy_dtype(layout)
    rng = np.random.default_rng(seed)
    count = int(np.prod(layout.shape))
    walk = np.cumsum(rng.integers(-3, 4, size=count * dtype.itemsize))
    raw = (walk % 251).astype(np.uint8)
    data = raw.view(dtype).reshape(layout.shape).copy()
    if dtype.kind == "f":
        data[...] = np.sin(np.arange(count, dtype=dtype) / 7).reshape(layout.shape)
    elif dtype.kind in "iu" and dtype.itemsize > 1:
        data[...] = rng.poisson(2, layout.shape)
    elif dtype.kind == "c":
        data[...] = rng.poisson(3, layout.shape) + 1j * np.cos(np.arange(count) / 5).reshape(
            layout.shape
        )
    elif dtype.kind == "b":
        data[...] = rng.random(layout.shape) < 0.1
    rows = layout.chunks[0]
    if dtype.kind != "b":
        data[rows : 2 * rows].view(np.uint8)[...] = 0xFF
    return data


def add_filter(dcpl: Any, item: Filter) -> None:
    """Add ``item`` to an h5py dataset-creation property list the way h5py would."""
    if isinstance(item, DeflateFilter):
        dcpl.set_deflate(item.level)
    elif isinstance(item, ShuffleFilter):
        dcpl.set_shuffle()
    elif isinstance(item, Fletcher32Filter):
        dcpl.set_fletcher32()
    elif isinstance(item, (LZ4Filter, ZstdFilter, BitshuffleFilter, BloscFilter)):
        plugin = hdf5plugin_filter(item)
        dcpl.set_filter(plugin.filter_id, h5py.h5z.FLAG_OPTIONAL, plugin.filter_options)
    else:
        raise NotImplementedError(f"no h5py setter for {item!r}")


# hdf5plugin's names for the compressors inside bitshuffle and blosc
BITSHUFFLE_CNAMES: dict[BitshuffleCompression, Literal["none", "lz4", "zstd"]] = {
    BitshuffleCompression.NONE: "none",
    BitshuffleCompression.LZ4: "lz4",
    BitshuffleCompression.ZSTD: "zstd",
}
BLOSC_CNAMES: dict[
    BloscCompressor, Literal["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"]
] = {
    BloscCompressor.BLOSCLZ: "blosclz",
    BloscCompressor.LZ4: "lz4",
    BloscCompressor.LZ4HC: "lz4hc",
    BloscCompressor.SNAPPY: "snappy",
    BloscCompressor.ZLIB: "zlib",
    BloscCompressor.ZSTD: "zstd",
}


def hdf5plugin_filter(item: Filter) -> Any:
    """The hdf5plugin object a user would pass to h5py for ``item``."""
    if isinstance(item, LZ4Filter):
        return hdf5plugin.LZ4(nbytes=item.block_size)
    if isinstance(item, ZstdFilter):
        return hdf5plugin.Zstd(clevel=item.level)
    if isinstance(item, BitshuffleFilter):
        cname = BITSHUFFLE_CNAMES[item.compression]
        return hdf5plugin.Bitshuffle(nelems=item.block_size, cname=cname, clevel=item.level or 3)
    if isinstance(item, BloscFilter):
        return hdf5plugin.Blosc(
            cname=BLOSC_CNAMES[item.compressor], clevel=item.level, shuffle=int(item.shuffle)
        )
    raise NotImplementedError(f"no hdf5plugin filter for {item!r}")


def create_dataset(
    file: h5py.File, name: str, layout: Layout, filters: Sequence[Filter], data: Array | None
) -> h5py.Dataset:
    """A chunked dataset whose pipeline is ``filters`` in this order, filled with ``data``."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(layout.chunks)
    for item in filters:
        add_filter(dcpl, item)
    space = h5py.h5s.create_simple(layout.shape)
    tid = h5py.h5t.py_create(numpy_dtype(layout), logical=True)
    dset = h5py.Dataset(h5py.h5d.create(file.id, name.encode(), tid, space, dcpl=dcpl))
    if data is not None:
        dset[...] = data
    return dset


def chunk_offsets(layout: Layout) -> Iterator[tuple[int, ...]]:
    """Logical offsets of every chunk, in row-major order."""
    ranges = [range(0, s, c) for s, c in zip(layout.shape, layout.chunks, strict=True)]
    return itertools.product(*ranges)


def chunk_of(data: Array, layout: Layout, offset: tuple[int, ...]) -> bytes:
    """The unfiltered bytes of the chunk at ``offset`` (C order, as libhdf5 lays them out)."""
    index = tuple(slice(o, o + c) for o, c in zip(offset, layout.chunks, strict=True))
    return np.ascontiguousarray(data[index]).tobytes()


def stored_filters(dset: h5py.Dataset) -> list[FilterDescription]:
    """The pipeline libhdf5 stored (after set_local), as FilterDescriptions without names."""
    dcpl = dset.id.get_create_plist()
    result = []
    for index in range(dcpl.get_nfilters()):
        filter_id, flags, cd_values, _name = dcpl.get_filter(index)
        result.append(FilterDescription(filter_id, flags, "", tuple(int(v) for v in cd_values)))
    return result


def write_with_h5py(path: Path, layout: Layout, filters: Sequence[Filter], data: Array) -> None:
    with h5py.File(path, "w", libver="latest") as file:
        create_dataset(file, "data", layout, filters, data)


def read_raw_chunks(path: Path, layout: Layout) -> list[tuple[int, bytes]]:
    """(filter mask, stored bytes) of every chunk, as libhdf5 wrote them."""
    with h5py.File(path, "r") as file:
        dset = file["data"]
        return [dset.id.read_direct_chunk(offset) for offset in chunk_offsets(layout)]


def read_back_our_chunks(
    path: Path, layout: Layout, pipeline: FilterPipeline, data: Array, *, mask_of: Any = None
) -> Array:
    """Write every chunk of ``data`` encoded by ``pipeline`` with write_direct_chunk; h5py reads.

    ``mask_of(offset)``, if given, returns the filter mask to encode with (filters whose bit is
    set are not run), else the mask ``pipeline.encode`` reports.
    """
    with h5py.File(path, "w", libver="latest") as file:
        dset = create_dataset(file, "data", layout, pipeline.filters, None)
        for offset in chunk_offsets(layout):
            raw = chunk_of(data, layout, offset)
            if mask_of is None:
                stored, mask = pipeline.encode(raw, layout.element_size)
            else:
                mask = mask_of(offset)
                stored = encode_with_mask(pipeline, raw, layout.element_size, mask)
            dset.id.write_direct_chunk(offset, stored, filter_mask=mask)
    with h5py.File(path, "r") as file:
        result: Array = file["data"][...]
        return result


def encode_with_mask(pipeline: FilterPipeline, chunk: bytes, element_size: int, mask: int) -> bytes:
    """Run only the filters whose bit in ``mask`` is clear, in pipeline order."""
    data = chunk
    for position, item in enumerate(pipeline.filters):
        if not mask >> position & 1:
            data = item.encode(data, element_size)
    return data
