"""Dense storage (reader/dense.py): link and attribute messages in a fractal heap, found through a
v2 B-tree name index. Files from libhdf5 (h5py), which decides when storage turns dense; h5py
says what each group and object holds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.object_header import RawMessage, find_message
from h5swmr.reader.attributes import attribute_value
from h5swmr.reader.dense import read_dense_attribute_bodies, read_dense_link_messages
from tests.reader.objects import h5py_address, object_messages


def _link_info(messages: tuple[RawMessage, ...]) -> LinkInfoMessage:
    raw = find_message(messages, MessageType.LINK_INFO)
    assert raw is not None
    return LinkInfoMessage.decode(raw.body)


def _attribute_info(messages: tuple[RawMessage, ...]) -> AttributeInfoMessage:
    raw = find_message(messages, MessageType.ATTRIBUTE_INFO)
    assert raw is not None
    return AttributeInfoMessage.decode(raw.body)


def _dense_links(path: Path, group: str) -> list[LinkMessage]:
    with object_messages(path, group) as (src, messages):
        info = _link_info(messages)
        assert not info.is_compact
        return read_dense_link_messages(src, info)


def _dense_attributes(path: Path, name: str) -> dict[str, object]:
    with object_messages(path, name) as (src, messages):
        info = _attribute_info(messages)
        assert info.is_dense
        decoded = [AttributeMessage.decode(b) for b in read_dense_attribute_bodies(src, info)]
        return {m.name: attribute_value(m, src) for m in decoded}


@pytest.mark.parametrize("n_links", [9, 40, 2000])
def test_dense_group_links_point_where_libhdf5_says(tmp_h5: Path, n_links: int) -> None:
    """Past 8 links a latest-format group is dense; 2000 fill several direct blocks."""
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        g = f.create_group("many")
        for i in range(n_links):
            g.create_dataset(f"d{i:05d}_{'x' * (i % 7)}", data=np.array([i]))
    links = _dense_links(tmp_h5, "many")
    with h5py.File(tmp_h5, "r") as f:
        names = list(f["many"])
    assert sorted(m.name for m in links) == names
    assert all(m.link_type == LinkType.HARD for m in links)
    last = max(links, key=lambda m: m.name)
    assert last.address == h5py_address(tmp_h5, f"many/{last.name}")


@pytest.mark.parametrize("libver", ["v110", "latest"])  # the earliest format has no room for them
def test_huge_attributes_and_links(tmp_path: Path, libver: str) -> None:
    """Heap objects over 4 KiB are "huge": stored on their own, found through a B-tree (IDs of
    attribute heaps are too short to hold their address)."""
    path = tmp_path / f"huge-{libver}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        for i in range(10):
            f.attrs[f"small{i}"] = i
        f.attrs["big"] = np.arange(250_000, dtype="f4")
        f.attrs["five_kib"] = np.full(1280, 7, "i4")
        g = f.create_group("g")
        for i in range(10):
            g[f"link{i}"] = h5py.SoftLink("/g")
        g["n" * 5000] = h5py.SoftLink("/g")
    attrs = _dense_attributes(path, "/")
    with h5py.File(path, "r") as f:
        assert sorted(attrs) == sorted(f.attrs)
        np.testing.assert_array_equal(attrs["big"], f.attrs["big"])
        np.testing.assert_array_equal(attrs["five_kib"], f.attrs["five_kib"])
        assert sorted(m.name for m in _dense_links(path, "g")) == sorted(f["g"])


def test_heaps_that_outgrow_their_root_indirect_block(tmp_path: Path) -> None:
    """Past ~512 KiB of managed objects the root indirect block gets rows of child indirect
    blocks: a group of 3,000 long soft links and 300 attributes of 3 KB."""
    path = tmp_path / "nested.h5"
    with h5py.File(path, "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(3000):
            g[f"{i:05d}_" + "n" * 240] = h5py.SoftLink("/target/" + "t" * 200 + str(i))
        for i in range(300):
            g.attrs[f"a{i:03d}"] = np.full(750, i, "i4")
    links = {m.name: m for m in _dense_links(path, "g")}
    assert len(links) == 3000
    assert links[f"02999_{'n' * 240}"].target == "/target/" + "t" * 200 + "2999"
    attrs = _dense_attributes(path, "g")
    assert sorted(attrs) == [f"a{i:03d}" for i in range(300)]
    np.testing.assert_array_equal(attrs["a299"], np.full(750, 299, "i4"))


@pytest.fixture(scope="module")
def dense_both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A group with dense links and dense attributes: two heaps, two name indexes of two kinds."""
    path = tmp_path_factory.mktemp("dense") / "both.h5"
    with h5py.File(path, "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(12):
            g[f"l{i}"] = h5py.SoftLink("/g")
            g.attrs[f"a{i}"] = i
    return path


def test_a_name_index_of_the_wrong_kind_is_refused(dense_both: Path) -> None:
    with object_messages(dense_both, "g") as (src, messages):
        links, attributes = _link_info(messages), _attribute_info(messages)
        assert len(read_dense_link_messages(src, links)) == 12
        assert len(read_dense_attribute_bodies(src, attributes)) == 12
        crossed_links = replace(links, name_index_address=attributes.name_index_address)
        with pytest.raises(FormatError, match="dense group: name index of type"):
            read_dense_link_messages(src, crossed_links)
        crossed_attributes = replace(attributes, name_index_address=links.name_index_address)
        with pytest.raises(FormatError, match="dense attributes: name index of type"):
            read_dense_attribute_bodies(src, crossed_attributes)


def test_a_heap_past_the_end_or_elsewhere_is_refused(dense_both: Path) -> None:
    with object_messages(dense_both, "g") as (src, messages):
        links = _link_info(messages)
        past_end = replace(links, fractal_heap_address=dense_both.stat().st_size + 4096)
        with pytest.raises(FormatError, match="fractal heap"):
            read_dense_link_messages(src, past_end)
        not_a_heap = replace(links, fractal_heap_address=links.name_index_address)
        with pytest.raises(FormatError, match="fractal heap"):
            read_dense_link_messages(src, not_a_heap)
