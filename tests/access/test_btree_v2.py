"""v2 B-tree walks (access/btree_v2.py): chunk records (types 10 and 11) where libhdf5 says each
chunk is, the name index of a dense group as raw records, and trees of the wrong kind or rank."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.access.btree_v2 import chunk_records, read_header, records
from h5swmr.errors import FormatError
from h5swmr.format.btree_v2 import CHUNK_FILTERED, CHUNK_UNFILTERED, LINK_NAME_RECORDS
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.object_header import find_message
from tests.access.h5py_chunks import assert_where_libhdf5_put_them
from tests.reader.objects import chunked_layout, dataset_state, object_messages


@pytest.fixture(scope="module")
def latest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("btree_v2") / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:  # two unlimited dims: a v2 B-tree index
        plain = f.create_dataset(
            "plain", shape=(0, 0), maxshape=(None, None), chunks=(2, 3), dtype="<i8"
        )
        plain.resize((300, 12))
        plain[...] = np.arange(3600).reshape(300, 12)  # 600 records: internal nodes
        plain.resize((320, 12))  # the last rows never written
        gzip = f.create_dataset("gzip", shape=(50, 50), maxshape=(None, None), chunks=(4, 4),
                                compression="gzip", dtype="f8")  # fmt: skip
        gzip[...] = np.random.default_rng(3).random((50, 50))
        g = f.create_group("dense")
        for i in range(30):
            g[f"link{i:02d}"] = h5py.SoftLink("/dense")
    return path


@pytest.mark.parametrize(("name", "kind"), [("plain", CHUNK_UNFILTERED), ("gzip", CHUNK_FILTERED)])
def test_chunk_records_where_libhdf5_put_them(latest: Path, name: str, kind: int) -> None:
    with dataset_state(latest, name) as (src, state):
        layout = chunked_layout(state)
        assert read_header(src, layout.index_address).tree_type == kind
        found = chunk_records(src, layout.index_address, layout.rank)
    assert_where_libhdf5_put_them(found, latest, name, filtered=kind == CHUNK_FILTERED)


def _name_index(path: Path) -> int:
    with object_messages(path, "dense") as (_, messages):
        raw = find_message(messages, MessageType.LINK_INFO)
        assert raw is not None
        return LinkInfoMessage.decode(raw.body).name_index_address


def test_records_of_a_name_index(latest: Path) -> None:
    address = _name_index(latest)
    with dataset_state(latest, "plain") as (src, _):
        header = read_header(src, address)
        assert header.tree_type == LINK_NAME_RECORDS
        raw = list(records(src, header))
    assert len(raw) == header.total_records == 30
    assert all(len(r) == header.record_size for r in raw)


def test_trees_of_the_wrong_kind_or_rank_are_refused(latest: Path) -> None:
    name_index = _name_index(latest)
    with dataset_state(latest, "plain") as (src, state):
        layout = chunked_layout(state)
        with pytest.raises(FormatError, match="v2 B-tree chunk index of record type 5"):
            chunk_records(src, name_index, 2)
        with pytest.raises(FormatError, match="chunk records for rank 3"):
            chunk_records(src, layout.index_address, 3)
        with pytest.raises(FormatError):  # a dataset header is no v2 B-tree header
            read_header(src, state.address)
