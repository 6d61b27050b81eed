"""FileStructure on its own: checks that change nothing when they fail, NeXus placement, and
what ``publish`` places and hands back for the commit."""

from __future__ import annotations

import numpy as np
import pytest

from h5swmr.errors import (
    DatasetNotFoundError,
    InvalidArgumentError,
    InvalidDtypeError,
)
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.superblock import Superblock
from h5swmr.storage.allocator import EofAllocator
from h5swmr.writer import nexus
from h5swmr.writer.structure import DatasetRequest, FileStructure
from h5swmr.writer.tree import DatasetNode, GroupNode


def _structure() -> FileStructure:
    return FileStructure(EofAllocator(Superblock.SIZE))


def _request(name: str, dtype: object = "<u2", dims: tuple[int, ...] = (4, 4)) -> DatasetRequest:
    return DatasetRequest("create_streaming_dataset", name, dtype, dims)  # type: ignore[arg-type]


def _snapshot(structure: FileStructure) -> tuple[int, int, list[str]]:
    return structure.allocator.eoa, len(structure.datasets), sorted(structure.tree.root.links)


@pytest.mark.parametrize(
    ("request_", "error", "words"),
    [
        (_request("/a/data"), InvalidArgumentError, "already exists"),
        (_request("/a/data/x"), InvalidArgumentError, "is a dataset, not a group"),
        (_request("/b", dtype="U4"), InvalidDtypeError, "store text as fixed-length bytes"),
        (_request("/b", dtype="S"), InvalidDtypeError, "S0 has no length"),
        (_request("/"), InvalidArgumentError, "root group cannot be a dataset"),
        (_request("/c", dims=(0,)), InvalidArgumentError, "frame_dims"),
    ],
)
def test_a_refused_dataset_changes_nothing(
    request_: DatasetRequest, error: type[Exception], words: str
) -> None:
    structure = _structure()
    structure.create_dataset(_request("/a/data"))
    before = _snapshot(structure)
    with pytest.raises(error, match=words):
        structure.create_dataset(request_)
    assert _snapshot(structure) == before


def test_datasets_are_found_by_number_path_or_numpy_integer() -> None:
    structure = _structure()
    first = structure.create_dataset(_request("/g/one"))
    second = structure.create_dataset(_request("two"))
    assert structure.dataset(0, "t") is first
    assert structure.dataset(np.int64(1), "t") is second
    assert structure.dataset("/g/one", "t") is first
    assert structure.dataset("two", "t") is second
    for ref, words in [(2, r"no dataset number 2 \(datasets: 0..1\)"), ("/g", "no dataset")]:
        with pytest.raises(DatasetNotFoundError, match=words):
            structure.dataset(ref, "t")
    with pytest.raises(DatasetNotFoundError, match="not float"):
        structure.dataset(1.0, "t")
    structure.write_dataset("/fixed", np.arange(3), None, "write_dataset")
    with pytest.raises(InvalidArgumentError, match="does not grow"):
        structure.dataset("/fixed", "t")


def test_a_bare_name_in_a_nexus_file_gets_its_detector_place_link_and_key() -> None:
    structure = _structure()
    structure.use_nexus()
    dataset = structure.create_dataset(_request("data"))
    assert dataset.name == nexus.detector_path("data")
    assert structure.tree.resolve(f"{nexus.DATA}/data") is dataset.node
    data_group = structure.tree.resolve(nexus.DATA)
    assert isinstance(data_group, GroupNode)
    assert "signal" in data_group.attributes
    (key,) = dataset.keys
    assert key.name == f"{nexus.KEYS}/data"
    assert key.publish_rank == 1  # published after the frames it counts
    assert [flag.publish_rank for flag in structure.finished_flags] == [2]


def test_publish_places_what_is_new_once() -> None:
    structure = _structure()
    dataset = structure.create_dataset(_request("/g/data"))
    structure.set_attribute("/g/data", "gain", 2.5)  # a number: no global heap
    assert dataset.node.address == UNDEFINED_ADDRESS
    blocks, groups = structure.publish()
    assert dataset.node.address != UNDEFINED_ADDRESS
    assert dataset.attribute_block is not None
    assert [address for address, _ in blocks] == [dataset.attribute_block[0]]
    assert {address for address, _ in groups} == {
        structure.tree.root.address,
        structure.tree.resolve("/g").address,  # type: ignore[union-attr]
    }
    assert all(data[:4] == b"OHDR" for _, data in groups)
    assert dataset.frames_published == -1  # its header is written by the next commit
    assert structure.publish() == ([], [])  # nothing new: nothing to write


def test_groups_go_to_fresh_addresses_at_each_publish() -> None:
    """A reader holding an old group header keeps a valid view of the file."""
    structure = _structure()
    structure.create_group("/g", "t")
    structure.publish()
    old = structure.tree.root.address
    structure.create_hard_link("/", "h", "/g")
    _, groups = structure.publish()
    assert structure.tree.root.address > old
    assert structure.tree.root.address in {address for address, _ in groups}


def test_a_hard_link_needs_an_existing_target_and_a_new_name() -> None:
    structure = _structure()
    structure.create_dataset(_request("/d"))
    with pytest.raises(DatasetNotFoundError, match="no dataset or group at '/missing'"):
        structure.create_hard_link("/", "x", "/missing")
    with pytest.raises(InvalidArgumentError, match="already exists"):
        structure.create_hard_link("/", "d", "/d")
    structure.create_hard_link("/g", "d2", "/d")
    node = structure.tree.resolve("/g/d2")
    assert isinstance(node, DatasetNode)
    assert node is structure.tree.resolve("/d")
