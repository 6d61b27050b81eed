"""Grid datasets (writer/grid_dataset.py: create_grid_dataset + write_chunk_at), read by
libhdf5 2.x, 1.14, 1.12, 1.10 and the pure-Python reader, closed and live: written chunks bit for
bit, zeros elsewhere."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the plugin filters with h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.errors import (
    DatasetNotFoundError,
    FrameDtypeError,
    FrameError,
    InvalidArgumentError,
    InvalidDtypeError,
    InvalidStateError,
    UnsupportedError,
)
from h5swmr.reader import SwmrFileReader
from h5swmr.storage.allocator import PAGE_SIZE
from h5swmr.storage.file import Buffer, FileHandle
from tests.oracle import OLD_H5PY_VERSIONS, array_sha256, describe_with, h5dump_data
from tests.oracle.old_h5py import venv_python
from tests.writer.conftest import same_bits


@dataclass(frozen=True)
class Case:
    name: str
    dtype: str
    dims: tuple[int, ...]
    chunk: tuple[int, ...]
    pipeline: FilterPipeline | None = None

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(-(-d // c) for d, c in zip(self.dims, self.chunk, strict=True))

    @property
    def n_chunks(self) -> int:
        return math.prod(self.grid)


CASES = [
    Case("plain", "<u2", (5, 7, 6), (2, 3, 6)),  # edge chunks on two dims
    Case("deflate", "<f4", (9, 10), (4, 4), FilterPipeline.shuffle_deflate(4)),
    Case("paged", "<i4", (40, 60), (1, 2)),  # 1200 chunks: a paged fixed array
    Case("paged_deflate", "u1", (30, 90), (1, 2), FilterPipeline.deflate(1)),  # 1350 chunks
]


class Scan:
    """The chunks written to one grid so far, and what readers must see after each flush."""

    def __init__(self, case: Case, seed: int) -> None:
        self.case = case
        self.rng = np.random.default_rng(seed)
        padded = tuple(g * c for g, c in zip(case.grid, case.chunk, strict=True))
        self.written = np.zeros(padded, case.dtype)
        self.flushed = self.written.copy()

    def chunk(self) -> np.ndarray:
        info = np.iinfo(self.case.dtype) if self.case.dtype[-2] in "iu" else None
        if info is None:
            return self.rng.standard_normal(self.case.chunk).astype(self.case.dtype)
        return self.rng.integers(info.min, info.max, self.case.chunk, endpoint=True).astype(
            self.case.dtype
        )

    def put(self, coords: tuple[int, ...], chunk: np.ndarray) -> None:
        where = tuple(
            slice(i * c, (i + 1) * c) for i, c in zip(coords, self.case.chunk, strict=True)
        )
        self.written[where] = chunk

    def flush(self) -> None:
        self.flushed = self.written.copy()

    def visible(self, *, flushed: bool = True) -> np.ndarray:
        data = self.flushed if flushed else self.written
        return data[tuple(slice(0, d) for d in self.case.dims)]

    def order(self, fraction: float = 0.7, rewrites: int = 10) -> list[tuple[int, ...]]:
        """A random order over part of the grid, with some coords written again."""
        every = list(itertools.product(*(range(g) for g in self.case.grid)))
        picked = [every[i] for i in self.rng.permutation(len(every))]
        picked = picked[: max(1, int(len(every) * fraction))]
        again = [picked[i] for i in self.rng.integers(0, len(picked), rewrites)]
        return picked + again


def write_grid(path: Path, case: Case, *, seed: int = 0, flush_every: int = 37) -> Scan:
    """Write ``case`` in a random order with rewrites, flushing now and then, and close."""
    scan = Scan(case, seed)
    with SwmrFileWriter.create(path, workers=2) as writer:
        ds = writer.create_grid_dataset(
            "/scan/grid", case.dtype, case.dims, case.chunk, case.pipeline
        )
        writer.start_swmr()
        for n, coords in enumerate(scan.order()):
            chunk = scan.chunk()
            writer.write_chunk_at(ds, coords, chunk)
            scan.put(coords, chunk)
            if n % flush_every == flush_every - 1:
                writer.flush()
    scan.flush()
    return scan


@pytest.fixture(scope="module")
def grid_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Scan]]:
    root = tmp_path_factory.mktemp("grids")
    return {c.name: (root / f"{c.name}.h5", write_grid(root / f"{c.name}.h5", c)) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_h5py_reads_every_chunk(grid_files: dict[str, tuple[Path, Scan]], case: Case) -> None:
    path, scan = grid_files[case.name]
    with h5py.File(path, "r") as f:
        ds = f["/scan/grid"]
        assert ds.shape == ds.maxshape == case.dims
        assert ds.chunks == case.chunk
        assert ds.compression == (case.pipeline.compression if case.pipeline else None)
        assert same_bits(ds[()], scan.visible())
        assert (ds[()] == 0).any()  # some chunks were never written: fill value
    data = path.read_bytes()
    assert b"FAHD" in data and b"EAHD" not in data  # a fixed array indexes the chunks


@pytest.mark.parametrize("version", sorted(OLD_H5PY_VERSIONS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_old_libhdf5_reads_the_grid(
    grid_files: dict[str, tuple[Path, Scan]], case: Case, version: str
) -> None:
    """HDF5 1.12 (h5py 3.8) and 1.14 (h5py 3.11) read the closed file bit for bit."""
    path, scan = grid_files[case.name]
    described = describe_with(version, path)
    assert described["hdf5_version"].startswith(("1.12", "1.14"))
    ds = described["datasets"]["/scan/grid"]
    assert ds["read_error"] is None, ds["read_error"]
    assert ds["shape"] == ds["maxshape"] == case.dims
    assert ds["chunks"] == case.chunk
    assert ds["sha256"] == array_sha256(scan.visible())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_h5dump_1_10_reads_the_grid(grid_files: dict[str, tuple[Path, Scan]], case: Case) -> None:
    path, scan = grid_files[case.name]
    got = h5dump_data(path, "/scan/grid", case.dtype, case.dims)
    assert same_bits(got, scan.visible())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pure_python_reader_reads_the_grid(
    grid_files: dict[str, tuple[Path, Scan]], case: Case
) -> None:
    path, scan = grid_files[case.name]
    reader = SwmrFileReader.open(path)
    try:
        assert reader.shape("/scan/grid") == case.dims
        assert same_bits(reader.read("/scan/grid"), scan.visible())
    finally:
        reader.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_live_readers_see_each_flush_and_nothing_before(tmp_path: Path, case: Case) -> None:
    """A live h5py SWMR reader and the pure-Python reader see exactly the chunks of the last
    flush: a chunk written (or rewritten) but not flushed reads as before, zeros or old data."""
    path = tmp_path / "live.h5"
    scan = Scan(case, seed=3)
    order = scan.order(fraction=0.5, rewrites=30)
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_grid_dataset("grid", case.dtype, case.dims, case.chunk, case.pipeline)
        writer.start_swmr()
        reader = SwmrFileReader.open(path)
        try:
            with h5py.File(path, "r", swmr=True) as f:
                dset = f["grid"]
                assert dset.shape == case.dims
                assert not dset[()].any()
                for n, coords in enumerate(order):
                    chunk = scan.chunk()
                    writer.write_chunk_at(ds, coords, chunk)
                    scan.put(coords, chunk)
                    if n % 23 == 5 or n == len(order) - 1:
                        dset.refresh()
                        assert same_bits(dset[()], scan.visible())  # the previous flush
                        writer.flush()
                        scan.flush()
                        dset.refresh()
                        assert same_bits(dset[()], scan.visible())
                        reader.refresh()
                        assert same_bits(reader.read("grid"), scan.visible())
        finally:
            reader.close()
    with h5py.File(path, "r") as f:
        assert same_bits(f["grid"][()], scan.visible())


def test_in_place_rewrites_stay_inside_one_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write over bytes written before (the fixed array's blocks and pages, headers, the
    superblock) lies inside one 4 KiB page; chunk bytes are never written over."""
    written: list[tuple[int, int]] = []
    overwrites: list[tuple[int, int]] = []
    original = FileHandle.pwrite

    def recording(self: FileHandle, address: int, data: Buffer) -> None:
        end = address + memoryview(data).nbytes
        if any(a < end and address < b for a, b in written):
            overwrites.append((address, end))
        written.append((address, end))
        original(self, address, data)

    def recording_each(self: FileHandle, writes: Sequence[tuple[int, Buffer]]) -> None:
        for address, data in writes:  # a commit phase
            recording(self, address, data)

    monkeypatch.setattr(FileHandle, "pwrite", recording)
    monkeypatch.setattr(FileHandle, "pwrite_each", recording_each)
    case = CASES[2]  # paged
    scan = Scan(case, seed=5)
    with SwmrFileWriter.create(tmp_path / "pages.h5", workers=0) as writer:
        ds = writer.create_grid_dataset("g", case.dtype, case.dims, case.chunk)
        writer.start_swmr()
        for n, coords in enumerate(scan.order(rewrites=200)):
            chunk = scan.chunk()
            writer.write_chunk_at(ds, coords, chunk)
            scan.put(coords, chunk)
            if n % 50 == 0:
                writer.flush()
    monkeypatch.undo()
    assert len(overwrites) > 20
    for address, end in overwrites:
        assert address // PAGE_SIZE == (end - 1) // PAGE_SIZE, (address, end)
    with h5py.File(tmp_path / "pages.h5", "r") as f:
        assert same_bits(f["g"][()], scan.visible(flushed=False))


def test_chunks_before_start_swmr_and_big_endian_input(tmp_path: Path) -> None:
    path = tmp_path / "early.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_grid_dataset("g", "<i2", (4, 4), (2, 2))
        writer.write_chunk_at(ds, (1, 0), np.arange(4, dtype=">i2").reshape(2, 2))
        writer.write_chunk_at("g", (0, 1), np.arange(4, 8, dtype="<i2").tobytes())
        writer.flush()
        writer.start_swmr()
    with h5py.File(path, "r") as f:
        expected = np.zeros((4, 4), "<i2")
        expected[2:, :2] = np.arange(4).reshape(2, 2)
        expected[:2, 2:] = np.arange(4, 8).reshape(2, 2)
        assert same_bits(f["g"][()], expected)


def test_open_append_keeps_grid_datasets_readable_but_not_writable(tmp_path: Path) -> None:
    """open_append works on a file with a grid dataset: streaming datasets go on growing, the
    grid is kept as it is, and write_chunk_at on it raises UnsupportedError."""
    path = tmp_path / "append.h5"
    chunk = np.arange(6, dtype="<u1").reshape(2, 3)
    with SwmrFileWriter.create(path) as writer:
        grid = writer.create_grid_dataset("grid", "u1", (4, 6), (2, 3))
        frames = writer.create_streaming_dataset("frames", "<u2", (3,))
        writer.start_swmr()
        writer.write_chunk_at(grid, (1, 1), chunk)
        writer.append_frame(frames, np.arange(3, dtype="<u2"))
    with SwmrFileWriter.open_append(path) as writer:
        assert writer.dataset_names == ["/frames"]
        writer.start_swmr()
        writer.append_frame("frames", np.arange(3, 6, dtype="<u2"))
        with pytest.raises(UnsupportedError, match="open_append keeps grid datasets"):
            writer.write_chunk_at("grid", (0, 0), chunk)
    with h5py.File(path, "r") as f:
        assert f["frames"][()].tolist() == [[0, 1, 2], [3, 4, 5]]
        expected = np.zeros((4, 6), "u1")
        expected[2:, 3:] = chunk
        assert same_bits(f["grid"][()], expected)


# -- errors --------------------------------------------------------------------------------------


@pytest.fixture
def two_kinds(tmp_path: Path) -> Iterator[tuple[SwmrFileWriter, int, int]]:
    writer = SwmrFileWriter.create(tmp_path / "errors.h5")
    grid = writer.create_grid_dataset("scan/g", "<u2", (5, 6), (2, 3))
    frames = writer.create_streaming_dataset("frames", "<u2", (2, 3))
    writer.start_swmr()
    yield writer, grid, frames
    writer.close()


GOOD = np.ones((2, 3), "<u2")


@pytest.mark.parametrize(
    ("coords", "data", "error", "match"),
    [
        ((0, 2), GOOD, InvalidArgumentError, r"coords \(0, 2\) out of range.*\(3, 2\) chunks"),
        ((3, 0), GOOD, InvalidArgumentError, "out of range"),
        ((-1, 0), GOOD, InvalidArgumentError, "out of range"),
        ((0,), GOOD, InvalidArgumentError, "must be 2 integers"),
        ((0, 0, 0), GOOD, InvalidArgumentError, "must be 2 integers"),
        ((0.0, 1), GOOD, InvalidArgumentError, "must be 2 integers"),
        ("ab", GOOD, InvalidArgumentError, "sequence of 2 integers"),
        (5, GOOD, InvalidArgumentError, "sequence of 2 integers"),
        ((0, 0), GOOD.astype("<i2"), FrameDtypeError, "dtype <i2, expected <u2"),
        ((0, 0), np.ones((3, 2), "<u2"), FrameError, r"shape \(3, 2\), expected the full chunk"),
        ((0, 0), np.ones((1, 3), "<u2"), FrameError, "pad edge chunks"),
        ((0, 0), b"\0" * 11, FrameError, "11 bytes, expected 12"),
        ((0, 0), "text", FrameDtypeError, "numpy array or a bytes-like"),
    ],
)
def test_bad_write_chunk_at_changes_nothing(
    two_kinds: tuple[SwmrFileWriter, int, int],
    coords: object,
    data: object,
    error: type[Exception],
    match: str,
) -> None:
    writer, grid, _ = two_kinds
    eoa = writer._allocator.eoa
    with pytest.raises(error, match=match) as info:
        writer.write_chunk_at(grid, coords, data)  # type: ignore[arg-type]
    assert "'/scan/g'" in str(info.value)
    assert writer._allocator.eoa == eoa
    writer.write_chunk_at(grid, (2, 1), GOOD)  # the writer goes on
    writer.flush()
    with h5py.File(writer.path, "r", swmr=True) as f:
        assert f["scan/g"][4:, 3:].tolist() == [[1, 1, 1]]
        assert f["scan/g"][:4].sum() == 0


def test_streaming_calls_on_a_grid_and_grid_calls_on_a_stream(
    two_kinds: tuple[SwmrFileWriter, int, int],
) -> None:
    writer, grid, frames = two_kinds
    with pytest.raises(InvalidArgumentError, match=r"append_frame\('/scan/g'\).*write_chunk_at"):
        writer.append_frame(grid, GOOD)
    with pytest.raises(InvalidArgumentError, match=r"append_chunk\('/scan/g'\).*write_chunk_at"):
        writer.append_chunk(grid, GOOD.tobytes())
    with pytest.raises(InvalidArgumentError, match=r"append_frame\('/scan/g'\).*write_chunk_at"):
        writer.append_frame(frames, GOOD, metadata={grid: GOOD})  # a grid as frame metadata
    with pytest.raises(InvalidArgumentError, match=r"write_chunk_at\('/frames'\).*append_frame"):
        writer.write_chunk_at(frames, (0, 0), GOOD)
    with pytest.raises(DatasetNotFoundError, match="no dataset 'nope'"):
        writer.write_chunk_at("nope", (0, 0), GOOD)
    assert writer.frame_count(frames) == 0


def test_grid_datasets_are_made_before_start_swmr_and_written_until_close(
    tmp_path: Path,
) -> None:
    writer = SwmrFileWriter.create(tmp_path / "state.h5")
    grid = writer.create_grid_dataset("g", "<u2", (2, 3), (2, 3))
    writer.start_swmr()
    with pytest.raises(InvalidStateError, match="already in SWMR mode"):
        writer.create_grid_dataset("h", "<u2", (2, 3), (2, 3))
    writer.close()
    with pytest.raises(InvalidStateError, match="is closed"):
        writer.write_chunk_at(grid, (0, 0), GOOD)


@pytest.mark.parametrize(
    ("dims", "chunk", "dtype", "error", "match"),
    [
        ((4, 4), (2,), "u1", InvalidArgumentError, "must have the rank of dims"),
        ((4, 4), (2, 5), "u1", InvalidArgumentError, "larger than dims"),
        ((4, 0), (2, 1), "u1", InvalidArgumentError, "positive integers"),
        ((), (), "u1", InvalidArgumentError, "positive integers"),
        ((4,), (0,), "u1", InvalidArgumentError, "positive integers"),
        ((4,), (2,), "O", InvalidDtypeError, "not a fixed-size number"),
    ],
)
def test_bad_create_grid_dataset(
    tmp_path: Path,
    dims: tuple[int, ...],
    chunk: tuple[int, ...],
    dtype: str,
    error: type[Exception],
    match: str,
) -> None:
    with SwmrFileWriter.create(tmp_path / "bad.h5") as writer:
        with pytest.raises(error, match=match) as info:
            writer.create_grid_dataset("g", dtype, dims, chunk)
        assert "create_grid_dataset('g')" in str(info.value)
        assert writer.dataset_names == []
        writer.create_grid_dataset("g", "u1", (4,), (2,))  # the name is still free


@pytest.mark.parametrize("reader", ["hdf5-2.x", "hdf5-1.12"])
def test_reader_processes_follow_a_grid_being_filled(tmp_path: Path, reader: str) -> None:
    """Reader processes poll while this process fills a grid in random order, rewrites chunks
    and flushes: every chunk they see is zeros or one whole chunk, never a mix, and at the end
    every chunk holds its last rewrite."""
    gy, gx, cy, cx = 12, 10, 8, 16
    path, done = tmp_path / "grid.h5", tmp_path / "done.json"
    python = sys.executable if reader == "hdf5-2.x" else str(venv_python("3.8.0"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    script = Path(__file__).parent.parent / "live" / "grid_reader.py"
    process = subprocess.Popen(
        [python, str(script), str(path), str(done), *map(str, (gy, gx, cy, cx)), "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    rng = np.random.default_rng(7)
    generation = np.full((gy, gx), -1)
    try:
        with SwmrFileWriter.create(path) as writer:
            grid = writer.create_grid_dataset("grid", "u4", (gy * cy, gx * cx), (cy, cx))
            writer.start_swmr()
            assert process.stdout is not None
            assert json.loads(process.stdout.readline()) == {"opened": True}, process.stderr
            order = [divmod(int(k), gx) for k in rng.permutation(gy * gx)]
            order += [divmod(int(k), gx) for k in rng.integers(0, gy * gx, 150)]  # rewrites
            for step, (i, j) in enumerate(order):
                generation[i, j] += 1
                value = 1 + 1000 * generation[i, j] + i * gx + j
                writer.write_chunk_at(grid, (i, j), np.full((cy, cx), value, "u4"))
                if step % 5 == 4:
                    writer.flush()
                    time.sleep(0.003)
            writer.flush()
            done.write_text(json.dumps(generation.tolist()))
            out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 0, err
    report = json.loads(out)
    assert report["finished"] and report["bad"] == [], report
    assert report["polls"] > 10 and len(report["counts"]) > 5, report  # it watched it fill


def test_a_scan_flushed_after_every_point_stays_compact(tmp_path: Path) -> None:
    """A paged index copies itself only when a changed page straddles a 4 KiB page; with small
    pages that is rare, so flushing after every point of a 2,000-point scan does not bloat the
    file: 0.32 MB, where 2 KiB pages made 12.6 MB."""
    path = tmp_path / "scan.h5"
    rng = np.random.default_rng(3)
    gy, gx = 40, 50
    with SwmrFileWriter.create(path) as writer:
        grid = writer.create_grid_dataset("g", "u2", (gy * 4, gx * 4), (4, 4))
        writer.start_swmr()
        for k in rng.permutation(gy * gx):
            i, j = divmod(int(k), gx)
            writer.write_chunk_at(grid, (i, j), np.full((4, 4), k % 60000 + 1, "u2"))
            writer.flush()
    assert path.stat().st_size < 2_000_000  # 64 KB of chunks, a 36 KB index, rare copies
    with h5py.File(path, "r") as f:
        data = f["g"][()].reshape(gy, 4, gx, 4)
        assert (data == (np.arange(gy * gx).reshape(gy, 1, gx, 1) % 60000 + 1)).all()


@pytest.mark.parametrize("flush_every", [1, 3])
def test_a_chunk_buffer_reused_right_after_write_chunk_at(tmp_path: Path, flush_every: int) -> None:
    """A filtered chunk is the application's once write_chunk_at returns (filtered on the
    caller's thread, or a copy queued): overwriting its buffer at once changes nothing stored."""
    chunks = np.random.default_rng(3).poisson(2.0, (6, 256, 512)).astype("<u2")
    path = tmp_path / "reused.h5"
    buffer = np.empty((256, 512), "<u2")
    with SwmrFileWriter.create(path, workers=2) as writer:
        ds = writer.create_grid_dataset(
            "g", "<u2", (6 * 256, 512), (256, 512), FilterPipeline.lz4()
        )
        writer.start_swmr()
        for n, chunk in enumerate(chunks):
            buffer[...] = chunk
            writer.write_chunk_at(ds, (n, 0), buffer)
            buffer[...] = 0xFFFF
            if n % flush_every == flush_every - 1:
                writer.flush()
    with h5py.File(path, "r") as f:
        assert same_bits(f["g"][()], chunks.reshape(6 * 256, 512))
