"""h5py's selections parsed once (reader/selection.py): the positions each axis selects are the
ones numpy (and h5py) select, and every key h5py refuses is refused with the built-in error type
h5py raises, as an H5SwmrError. The end-to-end property test is test_selection_property.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from h5swmr.errors import H5SwmrError
from h5swmr.reader.selection import SliceAxis, parse_selection

SHAPE = (6, 5, 4)
GOOD: list[Any] = [
    (),
    Ellipsis,
    2,
    -1,
    (slice(1, 5, 2), 3),
    (Ellipsis, slice(None, None, 3)),
    (slice(-4, None), Ellipsis, 0),
    ([0, 2, 5], slice(1, 3)),
    (1, np.array([0, 4]), slice(None)),
    (slice(None), np.array([True, False, True, False, True])),
    (slice(7, 9),),  # past the end: empty, as numpy
    (np.int64(3), np.uint8(1), 2),
]
BAD: list[Any] = [
    None,
    1.5,
    (0, 0, 0, 0),
    (Ellipsis, Ellipsis),
    6,
    -7,
    slice(None, None, -1),
    slice(None, None, 0),
    ([2, 1],),
    ([0, 9],),
    ([0, 1], [0, 1]),
    (np.array([0.5]),),
    "name",
]


def _selected(key: Any) -> np.ndarray:
    """What parse_selection's axes pick from an array whose values are their own flat index."""
    data = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    selection = parse_selection(key, SHAPE)
    picked: np.ndarray = data[np.ix_(*(axis.positions() for axis in selection.axes))]
    return picked.reshape(selection.result_shape)


@pytest.mark.parametrize("key", GOOD, ids=repr)
def test_positions_are_numpys(key: Any) -> None:
    data = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    np.testing.assert_array_equal(_selected(key), data[key])
    selection = parse_selection(key, SHAPE)
    assert selection.scalar_result == (np.ndim(data[key]) == 0)


@pytest.fixture(scope="module")
def h5py_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("selection") / "d.h5"
    with h5py.File(path, "w") as f:
        f["d"] = np.zeros(SHAPE)
    return path


@pytest.mark.parametrize("key", BAD, ids=repr)
def test_refused_as_h5py_refuses(h5py_dataset: Path, key: Any) -> None:
    with h5py.File(h5py_dataset, "r") as f, pytest.raises(Exception) as theirs:
        f["d"][key]
    builtin = type(theirs.value)
    with pytest.raises(H5SwmrError) as ours:
        parse_selection(key, SHAPE)
    assert isinstance(ours.value, builtin), (builtin, ours.value)


def test_scalar_datasets_and_whole_axes() -> None:
    assert parse_selection((), ()).scalar_result  # h5py: ds[()] is a numpy scalar
    assert not parse_selection(Ellipsis, ()).scalar_result  # ds[...] a 0-d array
    axes = parse_selection(slice(None), SHAPE).axes
    assert all(isinstance(a, SliceAxis) and a.covers(n) for a, n in zip(axes, SHAPE, strict=True))
    with pytest.raises(H5SwmrError, match="Illegal slicing argument for scalar dataspace"):
        parse_selection(0, ())
