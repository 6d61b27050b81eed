"""The writer's object-header builders, shared with scaleout's master files."""

from __future__ import annotations

from pathlib import Path

import h5py

from h5swmr.format.constants import MessageType
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.object_header import ObjectHeader
from h5swmr.scaleout.master import ExternalLink, write_master
from h5swmr.writer.headers import compact_group_header, group_header
from h5swmr.writer.tree import GroupNode, Node


def test_group_header_is_the_compact_header_of_its_links() -> None:
    group = GroupNode("/g", 100)
    group.links = {"a": Node("/g/a", 200), "b": Node("/g/b", 300)}
    group.link_count = 2
    expected = compact_group_header([LinkMessage("a", 200), LinkMessage("b", 300)], link_count=2)
    assert group_header(group) == expected
    decoded = ObjectHeader.decode(expected.encode())
    types = [m.type for m in decoded.messages]
    assert types == [
        MessageType.LINK_INFO,
        MessageType.GROUP_INFO,
        MessageType.LINK,
        MessageType.LINK,
        MessageType.REFERENCE_COUNT,
    ]


def test_a_compact_group_libhdf5_reads(tmp_path: Path) -> None:
    """A master file is built of these headers alone: libhdf5 follows its external links."""
    part = tmp_path / "part.h5"
    with h5py.File(part, "w") as f:
        f["x"] = [1, 2, 3]
    master = tmp_path / "master.h5"
    write_master(master, [], [ExternalLink("/group/link", "part.h5", "/x")])
    with h5py.File(master, "r") as f:
        assert list(f["group"]) == ["link"]
        assert f["group"].get("link", getlink=True).filename == "part.h5"
        assert list(f["group/link"][()]) == [1, 2, 3]
