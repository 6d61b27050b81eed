"""Virtual layout message and mapping list: round trips, corruption, and files libhdf5 wrote."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import ChecksumError, FormatError
from h5swmr.format.checksum import seal
from h5swmr.format.constants import UNDEFINED_ADDRESS, UNLIMITED, MessageType
from h5swmr.format.global_heap import GlobalHeapCollection
from h5swmr.format.messages.virtual_layout import (
    VirtualLayoutMessage,
    VirtualMapping,
    VirtualMappingList,
    is_virtual_layout,
)
from h5swmr.format.object_header import ObjectHeader, find_message
from h5swmr.format.selection import AllSelection, HyperslabSelection
from tests.format.conftest import check_structure

GROWING = HyperslabSelection((0, 0), (1, 1), (UNLIMITED, 1), (1, 3))


def test_layout_message_bytes() -> None:
    message = VirtualLayoutMessage(2048, 1)
    assert check_structure(message) == bytes.fromhex("0403 0008000000000000 01000000")
    assert is_virtual_layout(message.encode())
    assert VirtualLayoutMessage().heap_address == UNDEFINED_ADDRESS
    with pytest.raises(FormatError):
        VirtualLayoutMessage.decode(bytes.fromhex("0303 0008000000000000 01000000"))
    with pytest.raises(FormatError):
        VirtualLayoutMessage.decode(bytes.fromhex("0402 0008000000000000 01000000"))


def test_mapping_list_round_trip_and_checksum() -> None:
    mappings = VirtualMappingList(
        (
            VirtualMapping(
                "a.h5", "/data", AllSelection(), HyperslabSelection.from_slices(((0, 5), (0, 3)))
            ),
            VirtualMapping("b_%b.h5", "data", GROWING, GROWING),
        )
    )
    encoded = check_structure(mappings, garbage_rounds=50)
    assert encoded[:9] == bytes([0, 2, 0, 0, 0, 0, 0, 0, 0])
    assert encoded[9:14] == b"a.h5\x00"
    flipped = bytearray(encoded)
    flipped[20] ^= 1
    with pytest.raises(ChecksumError):
        VirtualMappingList.decode(bytes(flipped))
    with pytest.raises(FormatError):
        VirtualMapping("", "data", AllSelection(), AllSelection())


def _virtual_layouts(path: Path) -> list[VirtualLayoutMessage]:
    raw = path.read_bytes()
    found = []
    for match in re.finditer(b"OHDR", raw):
        header = ObjectHeader.decode(raw[match.start() :])
        layout = find_message(header.messages, MessageType.LAYOUT)
        if layout is not None and is_virtual_layout(layout.body):
            found.append(VirtualLayoutMessage.decode(layout.body))
    return found


@pytest.mark.parametrize(("libver", "version"), [("v110", 2), ("latest", 3)])
def test_decodes_what_libhdf5_wrote(tmp_path: Path, libver: str, version: int) -> None:
    source = tmp_path / "src.h5"
    with h5py.File(source, "w", libver="latest") as f:
        f.create_dataset(
            "data", data=np.arange(30).reshape(10, 3), maxshape=(None, 3), chunks=(1, 3)
        )
    u = h5py.h5s.UNLIMITED
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    vspace = h5py.h5s.create_simple((20, 3), (u, 3))
    vspace.select_hyperslab((0, 0), (1, 1), block=(10, 3))
    sspace = h5py.h5s.create_simple((10, 3), (10, 3))
    sspace.select_all()
    dcpl.set_virtual(vspace, b"src.h5", b"data", sspace)
    vspace = h5py.h5s.create_simple((20, 3), (u, 3))
    vspace.select_hyperslab((10, 0), (u, 1), stride=(2, 1), block=(1, 3))
    sspace = h5py.h5s.create_simple((10, 3), (u, 3))
    sspace.select_hyperslab((0, 0), (u, 1), block=(1, 3))
    dcpl.set_virtual(vspace, b"src.h5", b"data", sspace)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    bound = h5py.h5f.LIBVER_V110 if libver == "v110" else h5py.h5f.LIBVER_LATEST
    fapl.set_libver_bounds(bound, h5py.h5f.LIBVER_LATEST)
    master = tmp_path / "vds.h5"
    fid = h5py.h5f.create(bytes(master), h5py.h5f.ACC_TRUNC, fapl=fapl)
    h5py.h5d.create(
        fid, b"vdata", h5py.h5t.STD_I64LE, h5py.h5s.create_simple((20, 3), (u, 3)), dcpl=dcpl
    ).close()
    fid.close()

    (layout,) = _virtual_layouts(master)
    raw = master.read_bytes()
    heap = GlobalHeapCollection.decode(raw[layout.heap_address :], address=layout.heap_address)
    assert heap.encode() == raw[layout.heap_address : layout.heap_address + heap.size]
    blob = heap.object(layout.heap_index).data
    mappings = VirtualMappingList.decode(blob)
    assert mappings.encode() == blob
    first, second = mappings.mappings
    assert (first.source_file, first.source_dataset) == ("src.h5", "data")
    assert first.source_selection == AllSelection()
    v1 = 1 if libver == "v110" else 3
    assert first.virtual_selection == HyperslabSelection((0, 0), (1, 1), (1, 1), (10, 3), v1)
    assert second.source_selection == HyperslabSelection((0, 0), (1, 1), (u, 1), (1, 3), version)
    assert second.virtual_selection == HyperslabSelection((10, 0), (2, 1), (u, 1), (1, 3), version)
    if libver == "v110":  # h5swmr's default versions are libhdf5's for a v110 low bound
        rebuilt = VirtualMappingList(
            (
                VirtualMapping(
                    "src.h5",
                    "data",
                    AllSelection(),
                    HyperslabSelection.from_slices(((0, 10), (0, 3))),
                ),
                VirtualMapping(
                    "src.h5",
                    "data",
                    HyperslabSelection((0, 0), (1, 1), (u, 1), (1, 3)),
                    HyperslabSelection((10, 0), (2, 1), (u, 1), (1, 3)),
                ),
            )
        )
        assert rebuilt.encode() == blob


def test_decodes_shared_names_of_hdf5_2(tmp_path: Path) -> None:
    """HDF5 2.0 (lower bound v200) stores a name repeated by a later mapping once, and "." as a
    flag: mapping list encoding version 1, decoded to the same names h5py reports."""
    long_name = "a_long_source_file_name_that_is_worth_sharing.h5"
    with h5py.File(tmp_path / long_name, "w") as f:
        f["source_dataset_with_a_long_name"] = np.arange(10, dtype="<i4")
    layout = h5py.VirtualLayout((8,), "<i4")
    for i in range(3):
        source = h5py.VirtualSource(long_name, "source_dataset_with_a_long_name", shape=(10,))
        layout[2 * i : 2 * i + 2] = source[2 * i : 2 * i + 2]
    layout[6:8] = h5py.VirtualSource(".", "local", shape=(2,))
    master = tmp_path / "vds.h5"
    with h5py.File(master, "w", libver="latest") as f:
        f["local"] = np.arange(2, dtype="<i4")
        f.create_virtual_dataset("vdata", layout)
    with h5py.File(master) as f:
        names = [(s.file_name, s.dset_name) for s in f["vdata"].virtual_sources()]
    (message,) = _virtual_layouts(master)
    raw = master.read_bytes()
    blob = GlobalHeapCollection.decode(raw[message.heap_address :]).object(message.heap_index).data
    assert blob[0] == 1  # encoding version 1
    decoded = VirtualMappingList.decode(blob)
    assert [(m.source_file, m.source_dataset) for m in decoded.mappings] == names
    assert VirtualMappingList.decode(decoded.encode()) == decoded  # written back as version 0
    assert decoded.encode()[0] == 0


@pytest.mark.parametrize(
    "entry",
    [
        bytes([0x08]) + b"f\x00d\x00",  # an unknown flag
        bytes([0x05]) + b"d\x00",  # "same file" and a shared file name at once
        bytes([0x01]) + bytes(8) + b"d\x00",  # shares the name of a mapping not yet decoded
    ],
)
def test_bad_shared_names_rejected(entry: bytes) -> None:
    selections = AllSelection().encode() * 2
    body = bytes([1]) + (1).to_bytes(8, "little") + entry + selections
    with pytest.raises(FormatError):
        VirtualMappingList.decode(seal(body))
