"""h5py as the oracle: every dataset of a file read by h5py and by SwmrFileReader must agree."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from h5swmr.reader import SwmrFileReader


def assert_same_as_h5py(path: Path) -> list[str]:
    """Compare every dataset (values, shape, dtype, chunks) and the tree; returns dataset names."""
    with h5py.File(path, "r", swmr=True) as f, SwmrFileReader.open(path) as r:
        names: list[str] = []
        f.visititems(
            lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None
        )
        for name in names:
            expected = f[name]
            assert r.shape(name) == expected.shape, name
            assert r.dtype(name) == expected.dtype, name
            assert r.chunks(name) == expected.chunks, name
            assert r.maxshape(name) == expected.maxshape, name
            got = r.read(name)
            want = expected[()]
            assert got.shape == want.shape and got.dtype == want.dtype, name
            assert got.tobytes() == np.asarray(want).tobytes(), name
            if expected.ndim and expected.shape[0] > 2:
                n = expected.shape[0]
                assert r.read_frames(name, 1, n - 1).tobytes() == want[1 : n - 1].tobytes()
                assert r.read_frame(name, -1).tobytes() == want[-1].tobytes()
        kinds = {
            "/" + n: ("dataset" if isinstance(o, h5py.Dataset) else "group") for n, o in _items(f)
        }
        tree = r.tree()
        assert set(kinds.items()) <= set(tree.items())  # h5py visits each object once
        return names


def _items(f: h5py.File) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    f.visititems(lambda name, obj: items.append((name, obj)))
    return items


def assert_attrs_equal(ours: Mapping[str, object], theirs: Mapping[str, Any]) -> None:
    """Our attributes against h5py's: the same names in name order, the same values and types
    (a str as str, numbers as the numpy scalar or array h5py gives)."""
    assert list(ours) == sorted(theirs)
    for key, value in theirs.items():
        if isinstance(value, str):
            assert ours[key] == value, key
        else:
            got = ours[key]
            assert isinstance(got, np.ndarray | np.generic), key
            assert type(got) is type(value), key
            assert np.array_equal(got, value), key
