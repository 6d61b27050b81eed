"""ExtensibleArrayLookup against libhdf5: every chunk record of files h5py wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from h5swmr.access.extensible_array import ExtensibleArrayLookup
from h5swmr.access.source import FileSource
from h5swmr.format.constants import UNDEFINED_ADDRESS
from tests.access.ea_files import N_CHUNKS, layout_of, libhdf5_records, write_ea_file


@pytest.fixture(scope="module", params=sorted(N_CHUNKS))
def ea_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ea") / f"{request.param}.h5"
    write_ea_file(path, request.param)
    return path


def test_every_record_is_the_one_libhdf5_reports(ea_file: Path) -> None:
    expected = libhdf5_records(ea_file)
    layout = layout_of(ea_file)
    src = FileSource.open(ea_file)
    try:
        lookup = ExtensibleArrayLookup(src, layout.index_address)
        assert lookup.n_set == len(expected)
        for index, (address, size, mask) in expected.items():
            record = lookup.lookup(index)
            assert record is not None
            assert record.address == address
            if lookup.header.client_id == 1:  # filtered: size and mask are stored
                assert (record.size, record.filter_mask) == (size, mask)
        assert lookup.lookup(len(expected)) is None
    finally:
        src.close()


def test_address_runs_cover_the_same_addresses(ea_file: Path) -> None:
    expected = libhdf5_records(ea_file)
    layout = layout_of(ea_file)
    src = FileSource.open(ea_file)
    try:
        lookup = ExtensibleArrayLookup(src, layout.index_address)
        index = 0
        while index < len(expected):
            first, addresses = lookup.address_run(index)
            assert first <= index < first + len(addresses)
            for offset, address in enumerate(addresses.tolist()):
                want = expected.get(first + offset, (UNDEFINED_ADDRESS,))[0]
                assert address == want
            index = first + len(addresses)
    finally:
        src.close()


def test_uncached_block_reads_agree_with_the_lookups(ea_file: Path) -> None:
    layout = layout_of(ea_file)
    src = FileSource.open(ea_file)
    try:
        lookup = ExtensibleArrayLookup(src, layout.index_address)
        params = lookup.header.params
        iblock = lookup.read_index_block()
        es = lookup.header.element_size
        assert iblock.elements[:es] == lookup.read_index_block().elements[:es]
        paged_seen = False
        first = params.index_block_super_blocks
        for slot, address in enumerate(iblock.super_block_addresses):
            if address == UNDEFINED_ADDRESS:
                continue
            info = params.super_block(first + slot)
            sblock = lookup.read_super_block(address, info)
            dblock_address = sblock.data_block_addresses[0]
            dblock = lookup.read_data_block(dblock_address, info)
            if params.is_paged(info):
                paged_seen = True
                assert dblock.elements == b""
        if ea_file.stem == "h5swmr":
            assert paged_seen, "the file should reach paged data blocks"
        assert np.all(lookup.address_run(0)[1] != UNDEFINED_ADDRESS)
    finally:
        src.close()
