"""An object's header messages, found where libhdf5 (h5py) says the object is, for the tests of
the reader modules that take a FileSource and a header's messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py

from h5swmr.access.object_headers import read_object_header
from h5swmr.access.source import FileSource
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.reader.dataset import DatasetState, load_dataset


def h5py_address(path: Path, name: str) -> int:
    """The object header address of ``name``, as libhdf5 reports it."""
    with h5py.File(path, "r") as f:
        return int(h5py.h5o.get_info(f[name].id).addr)


@contextmanager
def object_messages(path: Path, name: str) -> Iterator[tuple[FileSource, tuple[RawMessage, ...]]]:
    """The open file and every message of ``name``'s object header (continuations included)."""
    address = h5py_address(path, name)
    src = FileSource.open(path)
    try:
        yield src, read_object_header(src, address)
    finally:
        src.close()


@contextmanager
def dataset_state(path: Path, name: str) -> Iterator[tuple[FileSource, DatasetState]]:
    """The open file and ``name``'s dataset snapshot (reader/dataset.py ``load_dataset``)."""
    address = h5py_address(path, name)
    with object_messages(path, name) as (src, messages):
        yield src, load_dataset(src, address, messages)


def chunked_layout(state: DatasetState) -> ChunkedLayoutMessage:
    """The layout of a dataset the test knows is chunked."""
    assert isinstance(state.layout, ChunkedLayoutMessage)
    return state.layout
