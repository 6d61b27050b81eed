"""The extensible array header's ``max_index_set`` runs ahead of the frames between flushes.

A flush rewrites the EA header only when a frame starts a data block or page; until then the
header covers the rest of that block or page, whose elements stay unset. These tests hold libhdf5
to it: a writer killed with a real SIGKILL leaves such a header, and SWMR readers, plain h5py
(new and old), h5dump and an h5py writer that appends to the recovered file all see exactly the
flushed frames; ``close`` (and ``open_append`` then ``close``) stores the exact value.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter, recover
from h5swmr.access.extensible_array import ExtensibleArrayLookup
from h5swmr.access.source import FileSource
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.object_header import ObjectHeader, find_message
from h5swmr.writer.extensible_array_index import params_for
from tests.oracle import OLD_H5PY_VERSIONS, h5dump_data
from tests.oracle.old_h5py import describe_with

FRAME = (4, 4)
PAGE_ELEMENTS = params_for(8).page_elements
"""h5swmr's pages (and its largest unpaged data blocks) for unfiltered chunks."""

_WRITER = """
import os, signal, sys
import numpy as np
from h5swmr import SwmrFileWriter
path, frames = sys.argv[1], int(sys.argv[2])
writer = SwmrFileWriter.create(path)
ds = writer.create_streaming_dataset("d", "u2", (4, 4))
writer.start_swmr()
for i in range(frames):
    writer.append_frame(ds, np.full((4, 4), i % 65521, "u2"))
    writer.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def _frames(first: int, stop: int) -> np.ndarray:
    return np.stack([np.full(FRAME, i % 65521, "u2") for i in range(first, stop)])


def _max_index_set(path: Path) -> int:
    """The EA header's max_index_set of dataset /d (the file may be a crashed writer's)."""
    with h5py.File(path, "r", swmr=True) as f:
        address = h5py.h5o.get_info(f["d"].id).addr
    header = ObjectHeader.decode(path.read_bytes()[address:], address=address)
    raw = find_message(header.messages, MessageType.LAYOUT)
    assert raw is not None
    layout = decode_layout(raw.body)
    assert isinstance(layout, ChunkedLayoutMessage)
    src = FileSource.open(path)
    try:
        return ExtensibleArrayLookup(src, layout.index_address).n_set
    finally:
        src.close()


def _killed_after(path: Path, frames: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WRITER, str(path), str(frames)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


@pytest.mark.parametrize("frames", [3, 37, 5001], ids=["index-block", "data-block", "page"])
def test_a_killed_writers_header_runs_ahead_and_libhdf5_reads_exactly_the_frames(
    tmp_path: Path, frames: int
) -> None:
    path = tmp_path / "killed.h5"
    _killed_after(path, frames)
    ahead = _max_index_set(path)
    if frames > 4:  # past the index block's 4 elements: to the end of the block or page
        assert frames < ahead <= frames + PAGE_ELEMENTS
    with h5py.File(path, "r", swmr=True) as f:  # as the crash left it
        assert f["d"].shape == (frames, *FRAME)
        assert (f["d"][()] == _frames(0, frames)).all()
    recover(path)
    with h5py.File(path, "r") as f:
        assert f["d"].id.get_num_chunks() == frames
        assert (f["d"][()] == _frames(0, frames)).all()
    assert (h5dump_data(path, "/d", "u2", (frames, *FRAME)) == _frames(0, frames)).all()
    for version in OLD_H5PY_VERSIONS:  # HDF5 1.14, 1.12
        old = describe_with(version, path, export=["/d"])
        assert (old["arrays"]["/d"] == _frames(0, frames)).all(), version
    # libhdf5 appends over the unset elements the header covers, and past them
    more = frames + PAGE_ELEMENTS + 40
    with h5py.File(path, "r+") as f:
        f["d"].resize(more, axis=0)
        f["d"][frames:] = _frames(frames, more)
    with h5py.File(path, "r") as f:
        assert f["d"].id.get_num_chunks() == more
        assert (f["d"][()] == _frames(0, more)).all()


def test_close_and_open_append_store_the_exact_count(tmp_path: Path) -> None:
    path = tmp_path / "exact.h5"
    _killed_after(path, 1000)
    assert _max_index_set(path) > 1000
    recover(path)
    with SwmrFileWriter.open_append(path) as writer:
        writer.start_swmr()
        for i in range(1000, 1005):
            writer.append_frame("/d", np.full(FRAME, i, "u2"))
            writer.flush()
        assert _max_index_set(path) > 1005  # ahead while the writer runs
    assert _max_index_set(path) == 1005
    with h5py.File(path, "r") as f:
        assert (f["d"][()] == _frames(0, 1005)).all()
    with SwmrFileWriter.create(path, overwrite=True) as writer:
        ds = writer.create_streaming_dataset("d", "u2", FRAME)
        writer.start_swmr()
        for i in range(300):
            writer.append_frame(ds, np.full(FRAME, i, "u2"))
            writer.flush()
    assert _max_index_set(path) == 300
