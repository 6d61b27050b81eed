"""The one object-header walk: both header versions, continuations, loops and shared messages.

Files come from libhdf5 (h5py) and from h5swmr; h5py says what each object holds.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.access.object_headers import read_object_header, walk_object_header
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.object_header import (
    ContinuationBlock,
    ObjectHeader,
    RawMessage,
    find_message,
    find_messages,
)


def _dims(messages: tuple[RawMessage, ...]) -> tuple[int, ...]:
    raw = find_message(messages, MessageType.DATASPACE)
    assert raw is not None
    return DataspaceMessage.decode(raw.body).dims


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_headers_libhdf5_wrote(tmp_path: Path, libver: str) -> None:
    path = tmp_path / f"{libver}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        ds = f.create_dataset("d", data=np.arange(12).reshape(3, 4))
        for i in range(40):  # enough attributes to need a continuation chunk
            ds.attrs[f"a{i:02d}"] = np.arange(i + 1)
        address = h5py.h5o.get_info(ds.id).addr
    src = FileSource.open(path)
    try:
        walked = walk_object_header(src, address)
    finally:
        src.close()
    assert (walked.chunk0 is None) == (libver == "earliest")  # version 1 has no OHDR chunk 0
    assert _dims(walked.messages) == (3, 4)
    names = len(find_messages(walked.messages, MessageType.ATTRIBUTE))
    assert names in (0, 40)  # compact: all 40 here; dense (latest): none in the header
    if walked.chunk0 is not None:
        assert walked.messages[: len(walked.chunk0.messages)] == walked.chunk0.messages


def test_an_h5swmr_dataset_with_attributes_in_a_continuation_block(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    with SwmrFileWriter.create(path) as w:
        ds = w.create_streaming_dataset("data", "u2", (4, 4))
        w.set_attribute("/data", "units", "counts")
        w.start_swmr()
        w.append_frame(ds, np.ones((4, 4), "u2"))
    with h5py.File(path, "r") as f:
        address = h5py.h5o.get_info(f["data"].id).addr
        assert list(f["data"].attrs) == ["units"]
    src = FileSource.open(path)
    try:
        walked = walk_object_header(src, address)
    finally:
        src.close()
    assert walked.chunk0 is not None
    assert {m.type for m in walked.continued} == {MessageType.ATTRIBUTE}
    assert _dims(walked.messages) == (1, 4, 4)


def _write_looping_header(path: Path) -> None:
    """An OHDR at 0 whose continuation block continues into itself."""
    block_address = 256
    loop = ContinuationMessage(block_address, 64)
    block = ContinuationBlock((RawMessage(MessageType.CONTINUATION, loop.encode()),), 64)
    header = ObjectHeader((RawMessage(MessageType.CONTINUATION, loop.encode()),), 64)
    image = bytearray(512)
    image[: header.size] = header.encode()
    image[block_address : block_address + 64] = block.encode()
    path.write_bytes(bytes(image))


def test_a_continuation_loop_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "loop.bin"
    _write_looping_header(path)
    src = FileSource.open(path)
    try:
        with pytest.raises(FormatError, match="continuation loop"):
            walk_object_header(src, 0)
    finally:
        src.close()


def test_neither_version_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "zeros.bin"
    path.write_bytes(bytes(64))
    src = FileSource.open(path)
    try:
        with pytest.raises(FormatError, match="neither OHDR nor version 1"):
            walk_object_header(src, 0)
    finally:
        src.close()


def test_the_reader_refuses_shared_messages_the_walk_returns(tmp_path: Path) -> None:
    path = tmp_path / "shared.bin"
    shared = RawMessage(MessageType.DATATYPE, bytes(8), flags=0x02)
    path.write_bytes(ObjectHeader((shared,), 64).encode())
    src = FileSource.open(path)
    try:
        assert walk_object_header(src, 0).messages == (shared,)
        with pytest.raises(UnsupportedError, match="shared message"):
            read_object_header(src, 0)
    finally:
        src.close()
