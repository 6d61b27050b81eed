"""Groups of libhdf5's default format (reader/symbol_groups.py): symbol table -> v1 B-tree ->
symbol table nodes -> names in the local heap; hard and soft links where libhdf5 says they go."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageType
from h5swmr.format.object_header import find_message
from h5swmr.format.symbol_table import SymbolTableMessage
from h5swmr.reader.links import Link
from h5swmr.reader.symbol_groups import read_symbol_table_links
from tests.reader.objects import h5py_address, object_messages


@pytest.fixture(scope="module")
def default_format(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("symbol_groups") / "default.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("g")
        for i in range(50):  # several symbol table nodes
            g[f"d{i:02d}_" + "x" * i] = np.int8(i)
        g["soft"] = h5py.SoftLink("/g/d00_")
        g["dangling"] = h5py.SoftLink("/nowhere/at/all")
        g.create_group("sub")
    return path


def _symbol_table(path: Path) -> bytes:
    with object_messages(path, "g") as (_, messages):
        raw = find_message(messages, MessageType.SYMBOL_TABLE)
    assert raw is not None
    return raw.body


def test_links_where_libhdf5_says(default_format: Path) -> None:
    body = _symbol_table(default_format)
    with object_messages(default_format, "g") as (src, _):
        links = read_symbol_table_links(src, body)
    with h5py.File(default_format, "r") as f:
        names = list(f["g"])
    assert sorted(links) == names
    assert links["soft"] == Link("soft", "soft", target="/g/d00_")
    assert links["dangling"] == Link("dangling", "soft", target="/nowhere/at/all")
    for name in ("d49_" + "x" * 49, "sub"):
        assert links[name] == Link(name, "hard", h5py_address(default_format, f"g/{name}"))


def test_a_table_pointing_past_the_file_is_refused(default_format: Path) -> None:
    table = SymbolTableMessage.decode(_symbol_table(default_format))
    far = default_format.stat().st_size + 4096
    with object_messages(default_format, "g") as (src, _):
        for btree, heap in (
            (table.btree_address, far),
            (far, table.heap_address),
            (table.heap_address, table.heap_address),  # a heap, not a B-tree
        ):
            with pytest.raises(FormatError):  # the message: B-tree and heap addresses
                read_symbol_table_links(src, struct.pack("<QQ", btree, heap))
