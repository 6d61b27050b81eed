"""One dataset's snapshot from its header (reader/dataset.py): shape, maxshape, type, chunks,
filters and fill value as h5py reports them, for files libhdf5 and h5swmr wrote; headers that
lack what a dataset needs are refused by name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import FormatError
from h5swmr.format.constants import UNLIMITED, MessageType
from h5swmr.format.messages.fill_value import FillValueMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.reader.dataset import fill_bytes, is_dataset, load_dataset
from tests.reader.objects import dataset_state, h5py_address, object_messages


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataset") / "filled.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("filled", shape=(4, 3), dtype="<f4", fillvalue=-2.5, chunks=(2, 3))
    return path


def _maxshape(maxdims: tuple[int, ...]) -> tuple[int | None, ...]:
    return tuple(None if m == UNLIMITED else m for m in maxdims)


def _assert_as_h5py(path: Path, name: str) -> None:
    with h5py.File(path, "r") as f:
        ds = f[name]
        want = (ds.shape, ds.maxshape, ds.dtype, ds.chunks, ds.compression, ds.fillvalue)
    with dataset_state(path, name) as (_, state):
        got_dtype = state.dtype
        pipeline = state.pipeline
        got = (
            state.dims,
            _maxshape(state.maxdims),
            got_dtype,
            state.chunks,
            pipeline.compression if pipeline is not None else None,
            state.fill_value,
        )
    assert got == want, name


@pytest.mark.parametrize(
    "name",
    ["contiguous", "compact", "scalar", "empty", "fixed", "fixed_filtered", "ea", "bt2_gzip",
     "big_endian", "complex", "strings"],
)  # fmt: skip
def test_snapshot_as_h5py_reports_it(h5py_file: Path, name: str) -> None:
    _assert_as_h5py(h5py_file, name)


def test_a_stored_fill_value(filled: Path) -> None:
    _assert_as_h5py(filled, "filled")


def test_snapshots_of_h5swmr_datasets(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        stream = w.create_streaming_dataset_tiled("stream", ">u2", (6, 8), (3, 4))
        w.set_dataset_fill_value(stream, 9)
        w.write_dataset("static", np.arange(5, dtype="f8"))
        w.start_swmr()
        w.append_frame(stream, np.ones((6, 8), ">u2"))
    _assert_as_h5py(tmp_h5, "stream")
    _assert_as_h5py(tmp_h5, "static")


def test_a_group_is_not_a_dataset(h5py_file: Path) -> None:
    with object_messages(h5py_file, "entry") as (_, group):
        assert not is_dataset(group)
    with object_messages(h5py_file, "fixed") as (_, dataset):
        assert is_dataset(dataset)


def test_a_header_without_what_a_dataset_needs_is_refused(h5py_file: Path) -> None:
    address = h5py_address(h5py_file, "fixed")
    with object_messages(h5py_file, "fixed") as (src, messages):
        for kind in (MessageType.DATASPACE, MessageType.DATATYPE, MessageType.LAYOUT):
            without = tuple(m for m in messages if m.type != kind)
            with pytest.raises(FormatError, match=f"no {kind.name.lower()} message") as caught:
                load_dataset(src, address, without)
            assert caught.value.address == address


def test_fill_values_of_the_wrong_size_are_refused(filled: Path) -> None:
    with dataset_state(filled, "filled") as (_, state):
        assert np.frombuffer(state.fill, "<f4")[0] == -2.5
    assert fill_bytes((), 4) == bytes(4)  # none stored: zeros, libhdf5's default
    stored = FillValueMessage(value=b"\x01\x02")
    with pytest.raises(FormatError, match="fill value of 2 bytes for 4-byte elements"):
        fill_bytes((RawMessage(MessageType.FILL_VALUE, stored.encode()),), 4)


def test_a_chunk_element_size_that_is_not_the_types_is_refused(h5py_file: Path) -> None:
    address = h5py_address(h5py_file, "fixed")
    with dataset_state(h5py_file, "fixed") as (src, state):
        layout = state.layout
        assert isinstance(layout, ChunkedLayoutMessage)
        wrong = replace(layout, element_size=4)
        messages = tuple(
            RawMessage(m.type, wrong.encode(), m.flags) if m.type == MessageType.LAYOUT else m
            for m in _messages(h5py_file, "fixed")
        )
        with pytest.raises(FormatError, match="chunk element size 4, datatype size 2"):
            load_dataset(src, address, messages)


def _messages(path: Path, name: str) -> tuple[RawMessage, ...]:
    with object_messages(path, name) as (_, messages):
        return messages
