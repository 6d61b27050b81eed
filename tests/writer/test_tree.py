"""The writer's picture of groups, datasets and hard links (writer/tree.py); what it says about
link counts is what libhdf5 reads from the file (h5py's reference counts)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import InvalidArgumentError
from h5swmr.writer.tree import DatasetNode, GroupNode, Tree


def test_groups_made_on_the_way_and_found_by_path() -> None:
    tree = Tree()
    detector = tree.require_group(["entry", "instrument", "detector"])
    assert detector.path == "/entry/instrument/detector"
    assert tree.require_group(["entry", "instrument", "detector"]) is detector
    assert tree.resolve("/entry/instrument/detector") is detector
    assert tree.resolve("entry/instrument") is tree.resolve("/entry/instrument/")
    assert tree.resolve("/") is tree.root
    assert tree.resolve("/entry/missing") is None
    assert [g.path for g in tree.groups()] == [
        "/", "/entry", "/entry/instrument", "/entry/instrument/detector"
    ]  # fmt: skip


def test_hard_links_count_and_groups_are_listed_once() -> None:
    tree = Tree()
    entry = tree.require_group(["entry"])
    data = DatasetNode("/entry/data", index=0)
    tree.link(entry, "data", data)
    tree.link(tree.root, "alias", data)
    tree.link(tree.root, "entry_again", entry)
    assert (tree.root.link_count, entry.link_count, data.link_count) == (1, 2, 2)
    assert [g.path for g in tree.groups()] == ["/", "/entry"]
    assert tree.resolve("/alias") is data
    assert tree.resolve("/alias/x") is None  # a dataset holds nothing


def test_names_taken_and_datasets_as_groups_are_refused() -> None:
    tree = Tree()
    entry = tree.require_group(["entry"])
    tree.link(entry, "data", DatasetNode("/entry/data"))
    with pytest.raises(InvalidArgumentError, match="'/entry/data' already exists"):
        tree.link(entry, "data", GroupNode("/entry/data"))
    with pytest.raises(InvalidArgumentError, match="'/entry/data' is a dataset, so it cannot hold"):
        tree.require_group(["entry", "data", "more"])
    assert entry.links["data"].link_count == 1


def test_link_counts_are_what_libhdf5_reads(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("entry/data", "u1", (2,))
        w.create_group("entry/instrument")
        w.create_hard_link("entry/instrument", "data", "entry/data")
        w.create_hard_link("/", "data", "entry/data")
        w.start_swmr()
        w.append_frame(ds, np.zeros(2, "u1"))
    with h5py.File(tmp_h5, "r") as f:
        assert h5py.h5o.get_info(f["entry/data"].id).rc == 3
        assert h5py.h5o.get_info(f["entry/instrument"].id).rc == 1
        assert f["data"] == f["entry/instrument/data"] == f["entry/data"]
