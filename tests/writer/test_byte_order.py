"""A dataset keeps the byte order asked for, as h5py does: ``>i4`` frames make an ``>i4`` dataset
(H5T_STD_I32BE), judged by h5py, h5dump 1.10 and h5py's own file of the same dtype."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileReader, SwmrFileWriter
from tests.oracle import h5dump_data, h5dump_header

FRAME = (4, 6)
KINDS = ["plain", "chunked", "tiled", "shuffle-deflate"]


def _create(writer: SwmrFileWriter, kind: str, name: str, dtype: np.dtype) -> str | int:
    if kind == "plain":
        return writer.create_streaming_dataset(name, dtype, FRAME)
    if kind == "chunked":
        return writer.create_streaming_dataset_chunked(name, dtype, FRAME, (2, *FRAME))
    if kind == "tiled":
        return writer.create_streaming_dataset_tiled(name, dtype, FRAME, (2, 3))
    return writer.create_streaming_dataset_compressed(
        name, dtype, FRAME, FilterPipeline.shuffle_deflate(4)
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("dtype", "h5dump_type"), [(">i4", "H5T_STD_I32BE"), (">f8", "H5T_IEEE_F64BE")]
)
def test_big_endian_frames_make_a_big_endian_dataset(
    tmp_h5: Path, kind: str, dtype: str, h5dump_type: str
) -> None:
    big = np.dtype(dtype)
    frames = (np.arange(5 * 4 * 6).reshape(5, *FRAME) * 3 - 7).astype(big)
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = _create(writer, kind, "data", big)
        writer.start_swmr()
        for frame in frames[:4]:
            writer.append_frame(ds, frame)
        writer.append_frame(ds, frames[4].astype(big.newbyteorder("<")))  # converted, as h5py
        writer.flush()
    with h5py.File(tmp_h5, "r") as f:
        data = f["data"]
        assert data.dtype.str == big.str
        assert data.id.get_type().get_order() == h5py.h5t.ORDER_BE
        np.testing.assert_array_equal(data[()], frames)
    assert f"DATATYPE  {h5dump_type}" in h5dump_header(tmp_h5, properties=False)
    np.testing.assert_array_equal(h5dump_data(tmp_h5, "/data", big, frames.shape), frames)
    with SwmrFileReader.open(tmp_h5) as reader:
        assert reader.dtype("data").str == big.str
        np.testing.assert_array_equal(reader.read("data"), frames)


def test_datatype_message_equals_h5pys(tmp_path: Path) -> None:
    """The same HDF5 type h5py makes for the same numpy dtype, in either byte order."""
    ours, theirs = tmp_path / "ours.h5", tmp_path / "theirs.h5"
    dtypes = [">i2", ">u4", ">i8", ">f4", ">f8", ">c8", "<i4", "<f8", "u1"]
    with SwmrFileWriter.create(ours) as writer:
        for dtype in dtypes:
            writer.create_streaming_dataset("x" + dtype, np.dtype(dtype), (2,))
    with h5py.File(theirs, "w", libver="latest") as f:
        for dtype in dtypes:
            f.create_dataset("x" + dtype, (0, 2), dtype=dtype, maxshape=(None, 2), chunks=(1, 2))
    with h5py.File(ours, "r") as a, h5py.File(theirs, "r") as b:
        for dtype in dtypes:
            assert a["x" + dtype].dtype == b["x" + dtype].dtype == np.dtype(dtype)
            assert a["x" + dtype].id.get_type() == b["x" + dtype].id.get_type(), dtype


def test_open_append_goes_on_in_the_same_byte_order(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset_compressed(
            "data", np.dtype(">f8"), FRAME, FilterPipeline.shuffle_deflate(4)
        )
        writer.start_swmr()
        writer.append_frame(ds, np.full(FRAME, 1.5, ">f8"))
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        writer.start_swmr()
        writer.append_frame("/data", np.full(FRAME, 2.5, "<f8"))
    with h5py.File(tmp_h5, "r") as f:
        assert f["data"].dtype.str == ">f8"
        np.testing.assert_array_equal(f["data"][:, 0, 0], [1.5, 2.5])
