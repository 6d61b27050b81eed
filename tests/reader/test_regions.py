"""Reading a selection of one dataset (reader/regions.py): the values h5py reads for the same
key, from chunks filtered or not, stored or never written, through a pool or not; contiguous data
through the rows; box selections cut by chunk as h5py's ``iter_chunks``; and the limits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.regions import chunk_boxes, read_region
from h5swmr.reader.rows import read_rows
from h5swmr.reader.selection import SliceAxis, parse_selection
from tests.reader.objects import chunked_layout, dataset_state

LIMIT = 1 << 30
DIMS = (23, 19)
KEYS: list[Any] = [
    (slice(None), slice(None)),
    (slice(2, 21, 5), slice(1, None, 4)),  # steps that skip whole chunks
    ([0, 7, 8, 22], slice(3, 9)),
    (5, [0, 18]),
    (slice(None), 4),
    (slice(12, 12), slice(None)),  # nothing
]


@pytest.fixture(scope="module")
def region_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regions") / "regions.h5"
    data = np.arange(np.prod(DIMS), dtype="<i4").reshape(DIMS)
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("plain", data=data, chunks=(4, 5))
        f.create_dataset("gzip", data=data, chunks=(4, 5), compression="gzip", shuffle=True)
        sparse = f.create_dataset("sparse", shape=DIMS, chunks=(4, 5), dtype="<i4", fillvalue=-3)
        sparse[4:8, 5:15] = data[4:8, 5:15]
        f.create_dataset("contiguous", data=data)
    return path


def _read(src: FileSource, state: DatasetState, key: Any, **kw: Any) -> np.ndarray:
    selection = parse_selection(key, state.dims)
    out = read_region(
        src, state, selection.axes, kw.pop("limit", LIMIT),
        lambda a, b: read_rows(src, state, a, b, LIMIT), **kw,
    )  # fmt: skip
    return out.reshape(selection.result_shape)


@pytest.mark.parametrize("name", ["plain", "gzip", "sparse", "contiguous"])
def test_selections_read_as_h5py_reads_them(region_file: Path, name: str) -> None:
    with h5py.File(region_file, "r") as f:
        wants = [f[name][key] for key in KEYS]
    with dataset_state(region_file, name) as (src, state), ThreadPoolExecutor(2) as pool:
        for key, want in zip(KEYS, wants, strict=True):
            np.testing.assert_array_equal(_read(src, state, key), want, err_msg=repr(key))
            np.testing.assert_array_equal(_read(src, state, key, pool=pool), want)


def test_box_selections_cut_by_chunk_as_h5py(region_file: Path) -> None:
    with h5py.File(region_file, "r") as f:
        theirs = list(f["plain"].iter_chunks(np.s_[3:21, 2:17]))
    with dataset_state(region_file, "plain") as (_, state):
        axes = parse_selection(np.s_[3:21, 2:17], DIMS).axes
        assert all(isinstance(a, SliceAxis) for a in axes)
        ours = list(chunk_boxes(DIMS, chunked_layout(state).chunk_dims, axes))  # type: ignore[arg-type]
    assert ours == theirs


def test_results_and_chunk_visits_over_the_limit_are_refused(region_file: Path) -> None:
    with dataset_state(region_file, "plain") as (src, state):
        with pytest.raises(FormatError, match=r"selection of shape \(23, 19\): 1748 bytes"):
            _read(src, state, (slice(None), slice(None)), limit=1000)
        assert _read(src, state, (0, 0), limit=64).tolist() == 0
        with pytest.raises(FormatError, match="chunks to visit, more than the limit of 15"):
            _read(src, state, (slice(None, None, 4), slice(None, None, 5)), limit=1000)
