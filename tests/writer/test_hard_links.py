"""Hard links: another name for the same object header, as libhdf5 makes them."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import DatasetNotFoundError, InvalidArgumentError, SwmrFileWriter
from tests.oracle import OLD_H5PY_VERSIONS, describe_with


def _address(obj: h5py.HLObject) -> int:
    return int(h5py.h5o.get_info(obj.id).addr)


def test_link_before_start_is_live_and_shares_the_header(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/entry/instrument/detector/data", "u2", (4, 4))
        writer.create_hard_link("/entry/data", "data", "/entry/instrument/detector/data")
        writer.create_hard_link("/", "detector", "entry/instrument/detector")
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for i in range(3):
                writer.append_frame(ds, np.full((4, 4), i, "u2"))
            writer.flush()
            linked = f["/entry/data/data"]
            linked.refresh()
            assert linked.shape == (3, 4, 4)
            assert (linked[:, 0, 0] == [0, 1, 2]).all()
            assert _address(linked) == _address(f["/entry/instrument/detector/data"])
            assert _address(f["/detector"]) == _address(f["/entry/instrument/detector"])
    with h5py.File(tmp_h5, "r") as f:
        assert h5py.h5o.get_info(f["/entry/data/data"].id).rc == 2
        assert h5py.h5o.get_info(f["/detector"].id).rc == 2
        assert f["/detector/data"].shape == (3, 4, 4)


def test_link_after_start_is_published_at_close(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("frames", "f4", (2, 3))
        writer.start_swmr()
        writer.append_frame(ds, np.ones((2, 3), "f4"))
        writer.create_hard_link("/entry/data", "data", "/frames")
        writer.flush()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            assert "entry" not in f  # groups do not change while readers follow the file
            assert f["frames"].shape == (1, 2, 3)
    with h5py.File(tmp_h5, "r") as f:
        assert _address(f["/entry/data/data"]) == _address(f["/frames"])
        assert f["/entry/data/data"].shape == (1, 2, 3)
        assert h5py.h5o.get_info(f["/frames"].id).rc == 2
    for version in OLD_H5PY_VERSIONS:
        described = describe_with(version, tmp_h5)
        linked = described["datasets"]["/entry/data/data"]
        assert linked["addr"] == described["datasets"]["/frames"]["addr"]


def test_many_links_in_one_group_stay_readable(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/source", "u1", (3,))
        for i in range(20):
            writer.create_hard_link("/many", f"link{i:02d}", "/source")
        writer.start_swmr()
    with h5py.File(tmp_h5, "r") as f:
        assert sorted(f["/many"]) == [f"link{i:02d}" for i in range(20)]
        assert h5py.h5o.get_info(f["/source"].id).rc == 21


@pytest.mark.parametrize(
    ("parent", "name", "target", "error"),
    [
        ("/", "x", "/missing", DatasetNotFoundError),
        ("/", "a/b", "/frames", InvalidArgumentError),
        ("/", "", "/frames", InvalidArgumentError),
        ("/", ".", "/frames", InvalidArgumentError),
        ("/", "frames", "/frames", InvalidArgumentError),
        ("/frames", "x", "/frames", InvalidArgumentError),
    ],
)
def test_bad_links_are_refused_and_change_nothing(
    tmp_h5: Path, parent: str, name: str, target: str, error: type[Exception]
) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/frames", "u1", (2,))
        with pytest.raises(error):
            writer.create_hard_link(parent, name, target)
        writer.start_swmr()
        writer.append_frame(ds, b"\x01\x02")
    with h5py.File(tmp_h5, "r") as f:
        assert list(f) == ["frames"]
        assert f["frames"][()].tolist() == [[1, 2]]
