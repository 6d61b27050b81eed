"""The writer's extensible array index adopts a file's index through the access layer.

libhdf5 wrote the files; the adopted index must hold every record libhdf5 reports, change
nothing by being adopted, and write blocks the lookup then reads back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from h5swmr.access.extensible_array import ExtensibleArrayLookup, element_codec
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.file import FileHandle
from h5swmr.writer.commit import CommitPlan
from h5swmr.writer.extensible_array_index import ExtensibleArrayIndex
from tests.access.ea_files import N_CHUNKS, layout_of, libhdf5_records, write_ea_file


@pytest.mark.parametrize("kind", sorted(N_CHUNKS))
def test_an_adopted_index_holds_what_libhdf5_wrote_and_appends(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.h5"
    write_ea_file(path, kind)
    expected = libhdf5_records(path)
    layout = layout_of(path)
    handle = FileHandle.open(str(path))
    try:
        src = FileSource(handle)
        lookup = ExtensibleArrayLookup(src, layout.index_address)
        codec = element_codec(lookup.header.client_id, lookup.header.element_size, "test")
        allocator = EofAllocator(handle.physical_size)
        index = ExtensibleArrayIndex.from_lookup(lookup, codec, allocator)
        assert index.header == lookup.header
        plan = CommitPlan()
        index.commit(plan)
        assert plan.phases(b"")[:-1] == [[]] * 6  # adopting changes nothing
        for i, (address, size, mask) in expected.items():
            record = index.get(i)
            assert record.address == address
            if codec.filtered:
                assert (record.size, record.filter_mask) == (size, mask)
        n = len(expected)
        more = {n + k: ChunkRecord(10_000_000 + k, 8 if codec.filtered else 0) for k in range(50)}
        index.set_run(n, list(more.values()))
        for final in (False, True):
            index.commit(plan, final=final)
            for phase in plan.phases(b"")[:-1]:
                for address, data in phase:
                    handle.pwrite(address, data)
            src.update_size()
            after = ExtensibleArrayLookup(src, layout.index_address)
            if final:  # the file's last commit: exact
                assert after.n_set == n + 50
            else:  # ahead, to the end of the block or page of the last element: none set there
                assert n + 50 <= after.n_set <= n + 50 + index.params.page_elements
                assert all(after.lookup(i) is None for i in range(n + 50, after.n_set))
            for i, record in more.items():
                assert after.lookup(i) == record
            assert after.lookup(0) == lookup.lookup(0)
    finally:
        handle.close()


def test_an_index_of_other_elements_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.h5"
    write_ea_file(path, "plain")
    src = FileSource.open(path)
    try:
        lookup = ExtensibleArrayLookup(src, layout_of(path).index_address)
        filtered = ElementCodec.for_chunks(8, filtered=True)
        with pytest.raises(FormatError, match=r"elements of 8 bytes \(client 0\), expected 14"):
            ExtensibleArrayIndex.from_lookup(lookup, filtered, EofAllocator(4096))
    finally:
        src.close()
