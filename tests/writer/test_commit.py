"""The commit order: every write lands in its phase, whatever order the parts hand them in."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from h5swmr import SwmrFileWriter
from h5swmr.writer.commit import CommitPlan


def test_phases_follow_the_swmr_order_not_the_order_of_arrival() -> None:
    plan = CommitPlan()
    plan.group_headers.append((600, b"group"))
    plan.object_headers.append((500, b"dataset header"))
    plan.index_headers.append((400, b"EA header"))
    plan.index_blocks.append((300, b"iblock"))
    plan.parents.append((200, b"super"))
    plan.leaves += [(100, b"page"), (150, b"attributes")]
    assert plan.phases(b"superblock") == [
        [(100, b"page"), (150, b"attributes")],
        [(200, b"super")],
        [(300, b"iblock")],
        [(400, b"EA header")],
        [(500, b"dataset header")],
        [(600, b"group")],
        [(0, b"superblock")],
    ]
    plan.clear()
    assert plan.phases(b"next") == [[], [], [], [], [], [], [(0, b"next")]]


def test_a_dataset_publishes_its_header_only_when_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    with SwmrFileWriter.create(path) as w:
        ds = w.create_streaming_dataset("data", "u1", (2,))
        w.start_swmr()
        dataset = w._structure.datasets[ds]
        assert dataset.commit_header() is None  # start_swmr published it
        w.append_frame(ds, np.array([1, 2], "u1"))
        assert dataset.frames_published == 0
        w.flush()  # the commit takes the header's new bytes; the dataset counts them published
        assert dataset.frames_published == 1
        assert dataset.commit_header() is None
    with h5py.File(path, "r") as f:
        assert f["data"].shape == (1, 2)
