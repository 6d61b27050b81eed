"""Every variant, dtype, frame rank and frame count, read back bit for bit by libhdf5.

HDF5 2.x reads in-process through h5py; HDF5 1.12 and 1.14 through old h5py wheels, and 1.10
through Debian's h5dump, in child processes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import h5py
import numpy as np
import pytest

from tests.oracle import OLD_H5PY_VERSIONS, array_sha256, describe_with, h5dump_data, h5dump_header
from tests.writer.conftest import FRAME_DIMS, VARIANTS, Variant, WrittenFile, same_bits

RANKS = sorted(FRAME_DIMS)


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_h5py_reads_every_dtype_and_count(
    variant_files: Callable[..., WrittenFile], variant: Variant, rank: int
) -> None:
    written = variant_files(variant, rank)
    pipeline = variant.pipeline
    with h5py.File(written.path, "r") as f:
        for name, frames in written.expected.items():
            ds = f[name]
            assert ds.shape == frames.shape, name
            assert ds.maxshape == (None, *FRAME_DIMS[rank]), name
            assert ds.chunks == variant.chunks(rank), name
            assert ds.dtype == frames.dtype.newbyteorder("<"), name
            assert ds.compression == (pipeline.compression if pipeline else None), name
            assert ds.compression_opts == (pipeline.compression_opts if pipeline else None)
            assert ds.shuffle == (pipeline.shuffle if pipeline else False)
            assert ds.fletcher32 == (pipeline.fletcher32 if pipeline else False)
            assert same_bits(ds[()], frames), name


@pytest.mark.parametrize("version", sorted(OLD_H5PY_VERSIONS))
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_old_libhdf5_reads_every_dtype(
    variant_files: Callable[..., WrittenFile], variant: Variant, version: str
) -> None:
    """HDF5 1.12 (h5py 3.8) and 1.14 (h5py 3.11) read the same files bit for bit."""
    written = variant_files(variant, 2)
    described = describe_with(version, written.path)
    assert described["hdf5_version"].startswith(("1.12", "1.14"))
    for name, frames in written.expected.items():
        ds = described["datasets"][name]
        assert ds["read_error"] is None, (name, ds["read_error"])
        assert ds["shape"] == frames.shape
        assert ds["maxshape"] == (None, *FRAME_DIMS[2])
        assert ds["chunks"] == variant.chunks(2)
        little_endian = np.ascontiguousarray(frames, frames.dtype.newbyteorder("<"))
        assert ds["sha256"] == array_sha256(little_endian), name


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_h5dump_1_10_reads_the_closed_file(
    variant_files: Callable[..., WrittenFile], variant: Variant
) -> None:
    written = variant_files(variant, 3)
    header = h5dump_header(written.path)
    assert "H5S_UNLIMITED" in header
    for name, frames in written.expected.items():
        if frames.dtype.kind in "cbS" or frames.dtype == np.float16:
            # h5dump -b has no binary form for compound, enum, string or 16-bit float data (not
            # even for files libhdf5 wrote): check that it reads the values as text.
            text = subprocess.run(
                ["h5dump", "-d", name, str(written.path)],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
            assert text.count("(") >= 2 * frames.shape[0], name
            continue
        got = h5dump_data(written.path, name, frames.dtype, frames.shape)
        assert same_bits(got, frames), name
