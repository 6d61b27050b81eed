"""v1 B-tree walks (access/btree_v1.py), libhdf5's default format: chunk records where libhdf5
says each chunk is, group nodes of a symbol table, and nodes that are not what they should be."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.access.btree_v1 import btree_v1_chunk_records, leaves
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.btree_v1 import CHUNK_NODE, GROUP_NODE
from h5swmr.format.constants import MessageType
from h5swmr.format.object_header import find_message
from h5swmr.format.symbol_table import SymbolTableMessage
from tests.access.h5py_chunks import assert_where_libhdf5_put_them
from tests.reader.objects import chunked_layout, dataset_state, object_messages


@pytest.fixture(scope="module")
def default_format(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("btree_v1") / "default.h5"
    with h5py.File(path, "w") as f:  # libhdf5's default: layout v3, v1 B-tree chunk indexes
        f.create_dataset("many", data=np.arange(600 * 5).reshape(600, 5), chunks=(1, 5))
        sparse = f.create_dataset("sparse", shape=(40, 40), chunks=(8, 8), dtype="i2")
        sparse[8:16, 0:8] = 5
        f.create_dataset("gzip", data=np.arange(3000.0).reshape(60, 50), chunks=(7, 9),
                         compression="gzip", fletcher32=True)  # fmt: skip
        g = f.create_group("g")
        for i in range(100):  # more than one symbol table node
            g.create_group(f"sub{i:03d}")
    return path


@pytest.mark.parametrize("name", ["many", "sparse", "gzip"])
def test_chunk_records_where_libhdf5_put_them(default_format: Path, name: str) -> None:
    with dataset_state(default_format, name) as (src, state):
        layout = chunked_layout(state)
        filtered = state.pipeline is not None
        found = btree_v1_chunk_records(
            src, layout.index_address, layout.chunk_dims, filtered=filtered
        )
    assert_where_libhdf5_put_them(found, default_format, name, filtered=filtered)


def test_group_nodes_name_every_symbol_table_node(default_format: Path) -> None:
    with object_messages(default_format, "g") as (src, messages):
        raw = find_message(messages, MessageType.SYMBOL_TABLE)
        assert raw is not None
        table = SymbolTableMessage.decode(raw.body)
        children = list(leaves(src, table.btree_address, GROUP_NODE))
    assert len(children) >= 100 // 16  # 100 links, at most 2K = 16 entries a node
    assert len({address for _, address in children}) == len(children)


def test_a_node_of_the_wrong_kind_or_no_node_is_refused(default_format: Path) -> None:
    with object_messages(default_format, "g") as (src, messages):
        raw = find_message(messages, MessageType.SYMBOL_TABLE)
        assert raw is not None
        table = SymbolTableMessage.decode(raw.body)
        with pytest.raises(FormatError, match="type 0, not 1"):
            list(leaves(src, table.btree_address, CHUNK_NODE, 3))
        with pytest.raises(FormatError):  # the local heap is no B-tree node
            list(leaves(src, table.heap_address, GROUP_NODE))
    src = FileSource.open(default_format)
    try:
        with pytest.raises(FormatError):  # past the end of the file
            list(leaves(src, default_format.stat().st_size + 64, GROUP_NODE))
    finally:
        src.close()
