"""Property test: ``h5swmr.File(p)[name][sel]`` equals ``h5py.File(p)[name][sel]`` bit for bit.

Random files written by libhdf5 (through h5py): every dtype class the reader decodes, rank 0 to
3, compact, contiguous and chunked layouts with each chunk index libhdf5 picks (single chunk,
fixed array, extensible array, v2 B-tree; v1 B-tree with ``libver="earliest"``), filters
(deflate, shuffle, fletcher32, LZ4 and Zstd through hdf5plugin), fill values, partial edge
chunks and chunks never written. Random selections: integers, slices with steps, negative
indices, Ellipsis, index lists, boolean masks, and the malformed ones h5py refuses, where the
error must be of h5py's built-in type. A second test does the same on streaming datasets
h5swmr writes (frames per chunk, tiles with partial edges, filters, a partly filled last band).
The ``ci`` hypothesis profile keeps both CI-sized.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import h5swmr
from h5swmr import H5SwmrError

DTYPES = ["u1", "i1", "<u2", ">i2", "<u4", "i4", ">u8", "<i8", "f2", "<f4", ">f8", "c8", "?", "S5"]
FILTERS = ["none", "gzip", "shuffle+gzip", "fletcher32", "lz4", "zstd"]
INDEXES = ["fixed", "unlimited-first", "unlimited-all", "earliest"]


@dataclass(frozen=True)
class Spec:
    dtype: str
    shape: tuple[int, ...]
    layout: str
    chunks: tuple[int, ...] | None
    index: str
    filters: str
    fill: bool
    written: tuple[slice, ...] | None
    seed: int


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    rank = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 9), min_size=rank, max_size=rank)))
    layout = (
        "contiguous"
        if rank == 0
        else draw(st.sampled_from(["compact", "contiguous", "chunked", "chunked"]))
    )
    chunks = None
    index, filters = "fixed", "none"
    if layout == "chunked":
        chunks = tuple(draw(st.integers(1, max(n, 1))) for n in shape)
        index = draw(st.sampled_from(INDEXES))
        filters = draw(st.sampled_from(FILTERS))
    written = None
    if rank and draw(st.booleans()):
        written = tuple(
            slice(a, a + draw(st.integers(0, n - a))) if n else slice(0, 0)
            for n in shape
            for a in [draw(st.integers(0, n))]
        )
    return Spec(
        draw(st.sampled_from(DTYPES)),
        shape,
        layout,
        chunks,
        index,
        filters,
        draw(st.booleans()),
        written,
        draw(st.integers(0, 2**32 - 1)),
    )


def _values(dtype: np.dtype[Any], shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    count = int(np.prod(shape)) if shape else 1
    if dtype.kind == "b":
        return rng.integers(0, 2, count).astype(bool).reshape(shape)
    if dtype.kind == "S":
        letters = rng.integers(97, 123, count * dtype.itemsize, dtype=np.uint8)
        return np.frombuffer(letters.tobytes(), dtype).reshape(shape)
    raw = rng.integers(0, 256, count * dtype.itemsize, dtype=np.uint8)
    return np.frombuffer(raw.tobytes(), dtype).reshape(shape).copy()


def _filter_options(filters: str) -> dict[str, Any]:
    options: dict[str, dict[str, Any]] = {
        "none": {},
        "gzip": {"compression": "gzip", "compression_opts": 3},
        "shuffle+gzip": {"compression": "gzip", "shuffle": True},
        "fletcher32": {"fletcher32": True},
        "lz4": dict(hdf5plugin.LZ4()),
        "zstd": dict(hdf5plugin.Zstd()),
    }
    return options[filters]


def write_file(path: Path, spec: Spec) -> None:
    dtype = np.dtype(spec.dtype)
    rng = np.random.default_rng(spec.seed)
    libver = "earliest" if spec.index == "earliest" else "latest"
    options: dict[str, Any] = {}
    if spec.fill:
        options["fillvalue"] = _values(dtype, (), rng)[()]
    if spec.layout == "compact":
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        options["dcpl"] = dcpl
    if spec.layout == "chunked":
        assert spec.chunks is not None
        maxshape: list[int | None] = list(spec.shape)
        if spec.index in ("unlimited-first", "earliest") and spec.shape:
            maxshape[0] = None
        if spec.index == "unlimited-all":
            maxshape = [None] * len(spec.shape)
        maxshape = [None if n == 0 else m for n, m in zip(spec.shape, maxshape, strict=True)]
        options.update(chunks=spec.chunks, maxshape=tuple(maxshape))
        options.update(_filter_options(spec.filters))
    with h5py.File(path, "w", libver=libver) as f:
        ds = f.create_dataset("d", shape=spec.shape, dtype=dtype, **options)
        data = _values(dtype, spec.shape, rng)
        if spec.written is None:
            ds[()] = data
        elif all(s.stop > s.start for s in spec.written):
            ds[spec.written] = data[spec.written]


def axis_keys(n: int) -> st.SearchStrategy[Any]:
    bound = st.integers(-n - 2, n + 2)
    return st.one_of(
        st.integers(-n - 1, n),
        st.builds(slice, st.none() | bound, st.none() | bound, st.sampled_from([None, 1, 2, 3])),
        st.builds(slice, st.none() | bound, st.none() | bound, st.sampled_from([0, -1, 5])),
        st.lists(st.integers(0, max(n - 1, 0)), max_size=4, unique=True).map(sorted),
        st.lists(st.integers(-n - 1, n), max_size=3),
        st.lists(st.booleans(), min_size=n, max_size=n).map(np.array),
    )


@st.composite
def selections(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    if not shape:
        return draw(st.sampled_from([(), Ellipsis, 0, slice(None), (Ellipsis, Ellipsis)]))
    form = draw(st.sampled_from(["full", "full", "short", "ellipsis", "bare", "odd", "long"]))
    keys = [draw(axis_keys(n)) for n in shape]
    if form == "short":
        return tuple(keys[: draw(st.integers(0, len(keys)))])
    if form == "ellipsis":
        cut = draw(st.integers(0, len(keys)))
        return (*keys[:cut], Ellipsis, *keys[cut + 1 :])
    if form == "bare":
        return keys[0]
    if form == "odd":
        return draw(st.sampled_from([None, 1.5, "x", (Ellipsis, Ellipsis), [[0]], ()]))
    if form == "long":
        return (*keys, 0)
    return tuple(keys)


def outcome(read: Any) -> tuple[str, Any]:
    try:
        return "value", read()
    except Exception as exc:  # the error's built-in type is what is compared
        return "error", exc


def same_value(ours: Any, theirs: Any) -> bool:
    if type(ours) is not type(theirs):
        return False
    a, b = np.asarray(ours), np.asarray(theirs)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


BUILTINS = (IndexError, TypeError, ValueError, OSError, KeyError)


def same_error(ours: BaseException, theirs: BaseException) -> bool:
    if not isinstance(ours, H5SwmrError):
        return False
    # h5py reports an index list on an empty dimension from libhdf5 (OSError); ours is IndexError
    if isinstance(theirs, OSError) and isinstance(ours, IndexError):
        return True
    return any(isinstance(theirs, kind) and isinstance(ours, kind) for kind in BUILTINS)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=specs(), data=st.data())
def test_selections_match_h5py(tmp_path: Path, spec: Spec, data: st.DataObject) -> None:
    path = tmp_path / "random.h5"
    try:
        write_file(path, spec)
    except (ValueError, TypeError, OSError):
        reject()  # a dataset h5py refuses to create
    with h5py.File(path, "r") as theirs_file, h5swmr.File(path) as ours_file:
        theirs, ours = theirs_file["d"], ours_file["d"]
        assert ours.shape == theirs.shape
        assert ours.dtype == theirs.dtype
        assert ours.chunks == theirs.chunks
        assert ours.maxshape == theirs.maxshape
        assert (ours.compression, ours.compression_opts) == (
            theirs.compression,
            theirs.compression_opts,
        )
        assert (ours.shuffle, ours.fletcher32) == (theirs.shuffle, theirs.fletcher32)
        assert same_value(ours.fillvalue, theirs.fillvalue)
        for _ in range(6):
            key = data.draw(selections(spec.shape), label="selection")
            kind_theirs, value_theirs = outcome(lambda key=key: theirs[key])
            kind_ours, value_ours = outcome(lambda key=key: ours[key])
            assert kind_ours == kind_theirs, (key, value_theirs, value_ours)
            if kind_ours == "value":
                assert same_value(value_ours, value_theirs), (key, value_theirs, value_ours)
            else:
                assert same_error(value_ours, value_theirs), (key, value_theirs, value_ours)


@st.composite
def stream_specs(draw: st.DrawFn) -> dict[str, Any]:
    """An h5swmr streaming dataset: frame dims, frames per chunk, tiles, filters, frame count
    (a last band of frames that fills its chunk only partly)."""
    frame = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=2)))
    per_chunk = draw(st.integers(1, 4))
    tile = tuple(draw(st.integers(1, n)) for n in frame)
    return {
        "dtype": draw(st.sampled_from(["u1", "<i2", ">u4", "<f8"])),
        "frame": frame,
        "chunk": (per_chunk, *tile),
        "pipeline": draw(st.sampled_from([None, "deflate", "shuffle_deflate", "lz4"])),
        "frames": draw(st.integers(0, 9)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=stream_specs(), data=st.data())
def test_selections_of_h5swmr_streams_match_h5py(
    tmp_path: Path, spec: dict[str, Any], data: st.DataObject
) -> None:
    path = tmp_path / "stream.h5"
    dtype = np.dtype(spec["dtype"])
    rng = np.random.default_rng(spec["seed"])
    pipeline = {
        None: None,
        "deflate": h5swmr.FilterPipeline.deflate(),
        "shuffle_deflate": h5swmr.FilterPipeline.shuffle_deflate(),
        "lz4": h5swmr.FilterPipeline.lz4(),
    }[spec["pipeline"]]
    with h5swmr.SwmrFileWriter.create(path) as writer:
        if pipeline is None:
            ds = writer.create_streaming_dataset_chunked("d", dtype, spec["frame"], spec["chunk"])
        else:
            ds = writer.create_streaming_dataset_chunked_compressed(
                "d", dtype, spec["frame"], spec["chunk"], pipeline
            )
        writer.start_swmr()
        for _ in range(spec["frames"]):
            writer.append_frame(ds, _values(dtype, spec["frame"], rng))
    shape = (spec["frames"], *spec["frame"])
    with h5py.File(path, "r") as theirs_file, h5swmr.File(path) as ours_file:
        theirs, ours = theirs_file["d"], ours_file["d"]
        assert (ours.shape, ours.chunks, ours.dtype) == (theirs.shape, theirs.chunks, theirs.dtype)
        for _ in range(6):
            key = data.draw(selections(shape), label="selection")
            kind_theirs, value_theirs = outcome(lambda key=key: theirs[key])
            kind_ours, value_ours = outcome(lambda key=key: ours[key])
            assert kind_ours == kind_theirs, (key, value_theirs, value_ours)
            if kind_ours == "value":
                assert same_value(value_ours, value_theirs), (key, value_theirs, value_ours)
            else:
                assert same_error(value_ours, value_theirs), (key, value_theirs, value_ours)
