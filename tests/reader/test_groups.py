"""A group's links however stored (reader/groups.py): symbol table (libhdf5's default format),
link messages (compact) or fractal heap (dense). Files from libhdf5 (h5py) and from h5swmr; h5py
says what each group holds and where each hard link points."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.reader.groups import is_group, read_links
from h5swmr.reader.links import Link
from tests.reader.objects import h5py_address, object_messages


def _h5py_links(path: Path, group: str) -> dict[str, Link]:
    """What libhdf5 says the group holds, as Links."""
    links: dict[str, Link] = {}
    with h5py.File(path, "r") as f:
        g = f[group]
        for name in g:
            link = g.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                links[name] = Link(name, "soft", target=link.path)
            elif isinstance(link, h5py.ExternalLink):
                links[name] = Link(name, "external", target=link.path, file_name=link.filename)
            else:
                address = int(h5py.h5o.get_info(g[name].id).addr)
                links[name] = Link(name, "hard", address)
    return links


def _write_links(path: Path, libver: str, n_datasets: int) -> None:
    with h5py.File(path, "w", libver=libver) as f:
        g = f.create_group("g")
        for i in range(n_datasets):
            g[f"d{i:03d}"] = np.arange(i + 1)
        g["soft"] = h5py.SoftLink("/g/d000")
        g["ext"] = h5py.ExternalLink("other.h5", "/data")
        g.create_group("sub")


@pytest.mark.parametrize(
    ("libver", "n_datasets"),
    [("earliest", 3), ("earliest", 40), ("latest", 3), ("latest", 40)],
    ids=["symbol-table", "symbol-table-split", "compact", "dense"],
)
def test_links_as_libhdf5_sees_them(tmp_h5: Path, libver: str, n_datasets: int) -> None:
    _write_links(tmp_h5, libver, n_datasets)
    with object_messages(tmp_h5, "g") as (src, messages):
        assert is_group(messages)
        links = read_links(src, messages)
    assert links == _h5py_links(tmp_h5, "g")
    assert list(links) == sorted(links)  # name order, whatever the storage order


def test_links_h5swmr_wrote(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        w.create_group("entry/instrument")
        ds = w.create_streaming_dataset("entry/data", "u2", (2, 2))
        w.create_hard_link("entry", "alias", "entry/data")
        w.start_swmr()
        w.append_frame(ds, np.zeros((2, 2), "u2"))
    with object_messages(tmp_h5, "entry") as (src, messages):
        links = read_links(src, messages)
    assert links == _h5py_links(tmp_h5, "entry")
    assert links["alias"].address == links["data"].address == h5py_address(tmp_h5, "entry/data")


def test_a_dataset_is_not_a_group(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f["d"] = np.arange(3)
        f.create_group("empty")
    with object_messages(tmp_h5, "d") as (_, messages):
        assert not is_group(messages)
    with object_messages(tmp_h5, "empty") as (src, messages):
        assert is_group(messages)
        assert read_links(src, messages) == {}


def test_a_dense_group_whose_heap_is_past_the_end_is_refused(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.create_group("g")
    far = tmp_h5.stat().st_size + (1 << 20)
    info = LinkInfoMessage(fractal_heap_address=far, name_index_address=far + 512)
    messages = (RawMessage(MessageType.LINK_INFO, info.encode()),)
    assert is_group(messages)
    with object_messages(tmp_h5, "g") as (src, _), pytest.raises(FormatError, match="fractal heap"):
        read_links(src, messages)
