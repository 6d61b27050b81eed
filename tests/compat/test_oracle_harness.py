"""The oracle harness judged on files that libhdf5 itself (this interpreter's h5py) wrote.

If these fail, no other compatibility test means anything. Nothing here is skipped: a missing
h5dump or an old-h5py venv that cannot be built is a failure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from tests.oracle import (
    OLD_H5PY_VERSIONS,
    FileDescription,
    H5dumpError,
    LiveReader,
    LiveReaderError,
    OldH5pyError,
    array_sha256,
    build_info,
    describe_current,
    describe_with,
    follow_dataset,
    h5dump_data,
    h5dump_header,
    h5dump_version,
)

READERS = [*OLD_H5PY_VERSIONS, "current"]
EXPECTED_HDF5 = {"3.8.0": "1.12.", "3.11.0": "1.14."}

# (path, dtype, frame shape, frames, chunk frames, compression kwargs)
DATASETS: list[tuple[str, str, tuple[int, ...], int, int, dict[str, Any]]] = [
    ("/frames", "<f4", (6, 5), 7, 1, {}),
    ("/entry/data/data", "<u2", (4, 3, 2), 5, 2, {}),
    ("/entry/line", "<i8", (9,), 0, 4, {}),
    ("/gz", "<i4", (8, 8), 3, 1, {"compression": "gzip", "compression_opts": 4, "shuffle": True}),
]


def _frames(dtype: str, frame_shape: tuple[int, ...], n_frames: int) -> np.ndarray[Any, Any]:
    data = np.arange(n_frames * int(np.prod(frame_shape)), dtype=np.float64) * 1.5 - 3
    return data.astype(dtype).reshape((n_frames, *frame_shape))


def _write_sample(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """A file of chunked, appendable datasets plus a hard link, written by libhdf5 (HDF5 2.x).

    Filtered datasets written with ``libver="latest"`` by HDF5 2.0 use layout message v5, which
    HDF5 <= 1.14 cannot read, so the sample caps the format at v1.14 (still SWMR-capable).
    """
    written: dict[str, np.ndarray[Any, Any]] = {}
    with h5py.File(path, "w", libver=("v110", "v114")) as f:
        for name, dtype, frame_shape, n_frames, chunk_frames, filters in DATASETS:
            ds = f.create_dataset(
                name,
                shape=(0, *frame_shape),
                maxshape=(None, *frame_shape),
                chunks=(chunk_frames, *frame_shape),
                dtype=dtype,
                **filters,
            )
            data = _frames(dtype, frame_shape, n_frames)
            ds.resize(n_frames, axis=0)
            if n_frames:
                ds[...] = data
            written[name] = data
        f["/entry/frames_link"] = f["/frames"]
        f["/entry"].attrs["NX_class"] = "NXentry"
    return written


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("sample") / "sample.h5"
    return path, _write_sample(path)


def _describe(reader: str, path: Path, **options: Any) -> FileDescription:
    if reader == "current":
        return describe_current(path, **options)
    return describe_with(reader, path, **options)


@pytest.mark.parametrize("version", OLD_H5PY_VERSIONS)
def test_old_h5py_venv_builds_with_expected_hdf5(version: str) -> None:
    info = build_info(version)
    assert info["h5py"] == version
    assert info["hdf5"].startswith(EXPECTED_HDF5[version])


@pytest.mark.parametrize("reader", READERS)
def test_describe_reports_what_libhdf5_wrote(
    reader: str, sample: tuple[Path, dict[str, Any]]
) -> None:
    path, written = sample
    exported = [name for name in written if written[name].size]
    description = _describe(reader, path, export=exported)
    datasets, groups = description["datasets"], description["groups"]
    if reader in EXPECTED_HDF5:
        assert description["hdf5_version"].startswith(EXPECTED_HDF5[reader])
        assert description["h5py_version"] == reader
    for name, dtype, frame_shape, n_frames, chunk_frames, filters in DATASETS:
        ds = datasets[name]
        assert ds["read_error"] is None
        assert ds["shape"] == (n_frames, *frame_shape)
        assert ds["maxshape"] == (None, *frame_shape)
        assert ds["chunks"] == (chunk_frames, *frame_shape)
        assert ds["dtype"] == dtype
        assert ds["compression"] == filters.get("compression")
        assert ds["compression_opts"] == filters.get("compression_opts")
        assert ds["shuffle"] is filters.get("shuffle", False)
        assert ds["fletcher32"] is False
        assert ds["sha256"] == array_sha256(written[name])
    gz_filters = [fid for fid, _flags, _cd, _name in datasets["/gz"]["filters"]]
    assert gz_filters == [2, 1]  # shuffle, then deflate
    for name in exported:
        np.testing.assert_array_equal(description["arrays"][name], written[name])
        assert description["arrays"][name].dtype == written[name].dtype
    assert groups["/"]["members"] == ["entry", "frames", "gz"]
    assert groups["/entry"]["members"] == ["data", "frames_link", "line"]
    assert groups["/entry"]["attrs"] == ["NX_class"]
    assert datasets["/entry/frames_link"]["addr"] == datasets["/frames"]["addr"]
    assert datasets["/entry/line"]["addr"] != datasets["/frames"]["addr"]


@pytest.mark.parametrize("reader", READERS)
def test_describe_reads_a_latest_format_file_with_swmr(reader: str, tmp_h5: Path) -> None:
    data = _frames("<u2", (16, 16), 10)
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.create_dataset("data", data=data, maxshape=(None, 16, 16), chunks=(1, 16, 16))
    description = _describe(reader, tmp_h5, swmr=True, export=["data"])
    ds = description["datasets"]["/data"]
    assert (ds["shape"], ds["maxshape"], ds["chunks"]) == (
        (10, 16, 16),
        (None, 16, 16),
        (1, 16, 16),
    )
    np.testing.assert_array_equal(description["arrays"]["data"], data)


def test_describe_reads_a_file_a_swmr_writer_still_has_open(tmp_h5: Path) -> None:
    data = _frames("<f4", (4, 4), 3)
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        ds = f.create_dataset("data", shape=(0, 4, 4), maxshape=(None, 4, 4), dtype="<f4")
        f.swmr_mode = True
        ds.resize(3, axis=0)
        ds[...] = data
        f.flush()
        for version in OLD_H5PY_VERSIONS:
            seen = describe_with(version, tmp_h5, swmr=True)["datasets"]["/data"]
            assert seen["shape"] == (3, 4, 4)
            assert seen["sha256"] == array_sha256(data)
        with pytest.raises(H5dumpError, match="h5dump"):
            h5dump_header(tmp_h5)  # h5dump does not read SWMR: flags 0x05 keep it out


def test_describe_fails_clearly() -> None:
    with pytest.raises(ValueError, match="not supported"):
        describe_with("2.10.0", "x.h5")
    with pytest.raises(OldH5pyError, match="could not describe"):
        describe_with(next(iter(OLD_H5PY_VERSIONS)), "/nonexistent/file.h5")


def test_h5dump_is_hdf5_1_10() -> None:
    assert h5dump_version().startswith("1.10.")


def test_h5dump_header_lists_every_object(sample: tuple[Path, dict[str, Any]]) -> None:
    path, _ = sample
    header = h5dump_header(path)
    for name in ("frames", "entry", "data", "line", "gz", "frames_link", "NX_class"):
        assert f'"{name}"' in header
    assert "H5T_STD_U16LE" in header
    assert "H5T_IEEE_F32LE" in header
    assert "DEFLATE" in header
    assert "CHUNKED ( 1, 6, 5 )" in header
    assert "HARDLINK" in header  # h5dump prints the second path to /frames as a hard link


@pytest.mark.parametrize(("name", "dtype", "frame_shape", "n_frames"), [d[:4] for d in DATASETS])
def test_h5dump_data_reads_every_dataset(
    name: str,
    dtype: str,
    frame_shape: tuple[int, ...],
    n_frames: int,
    sample: tuple[Path, dict[str, Any]],
) -> None:
    path, written = sample
    read = h5dump_data(path, name, dtype, (n_frames, *frame_shape))
    np.testing.assert_array_equal(read, written[name])
    assert read.dtype == np.dtype(dtype)


def test_h5dump_data_rejects_a_wrong_shape(sample: tuple[Path, dict[str, Any]]) -> None:
    path, _ = sample
    with pytest.raises(H5dumpError, match="bytes, expected"):
        h5dump_data(path, "/frames", "<f4", (8, 6, 5))
    with pytest.raises(H5dumpError):
        h5dump_data(path, "/no/such/dataset", "<f4", (1,))


def test_follow_dataset_sees_every_frame_in_order(tmp_h5: Path) -> None:
    n_frames = 12
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        ds = f.create_dataset("data", shape=(0, 8), maxshape=(None, 8), chunks=(1, 8), dtype="<u4")
        f.swmr_mode = True
        with follow_dataset(tmp_h5, "data", frames=n_frames, timeout=60) as reader:
            opened = reader.wait_for(lambda r: r["event"] == "opened", timeout=30)
            assert opened["shape"] == [0, 8]
            for index in range(n_frames):
                ds.resize(index + 1, axis=0)
                ds[index] = np.full(8, index, dtype="<u4")
                ds.flush()
                time.sleep(0.01)
            assert reader.wait(timeout=60) == 0
    seen = [frame for r in reader.reports if r["event"] == "frames" for frame in r["frames"]]
    assert [frame["index"] for frame in seen] == list(range(n_frames))
    assert [frame["first"] for frame in seen] == list(range(n_frames))
    assert reader.reports[-1] == {"event": "done", "n_frames": n_frames}


def test_follow_dataset_times_out_when_nothing_comes(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.create_dataset("data", shape=(0, 2), maxshape=(None, 2), dtype="<i2")
    with follow_dataset(tmp_h5, "data", frames=5, timeout=0.5) as reader:
        assert reader.wait(timeout=30) == 3
    assert reader.reports[-1] == {"event": "timeout", "n_frames": 0}


def test_follow_dataset_reports_a_file_that_never_appears(tmp_path: Path) -> None:
    with follow_dataset(
        tmp_path / "missing.h5", "data", frames=1, timeout=5, open_timeout=0.3
    ) as r:
        assert r.wait(timeout=30) == 1
    assert r.reports[-1]["event"] == "error"
    assert r.reports[-1]["stage"] == "open"


def test_live_reader_kills_a_silent_child_on_timeout() -> None:
    started = time.monotonic()
    with LiveReader("import time; time.sleep(600)") as reader:
        with pytest.raises(LiveReaderError, match="no report"):
            reader.next_report(timeout=0.5)
        assert reader.returncode is not None  # killed, not left running
    assert time.monotonic() - started < 30


def test_live_reader_rejects_output_that_is_not_json() -> None:
    with LiveReader("print('hello')") as reader, pytest.raises(LiveReaderError, match="not JSON"):
        reader.wait(timeout=30)


def test_live_reader_collects_reports_and_stderr() -> None:
    script = "import json, sys; print(json.dumps({'n': int(sys.argv[1])})); sys.stderr.write('x')"
    with LiveReader(script, ["7"]) as reader:
        assert reader.wait(timeout=30) == 0
    assert reader.reports == [{"n": 7}]
    assert reader.stderr == "x"
