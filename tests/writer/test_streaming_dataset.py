"""StreamingDataset on its own: where a frame's chunks land and what its index says of them.

Each test builds one dataset over a real file through the writer's ChunkSink and reads the
chunks back with os.pread, beside the dataset: the bytes on disk judge it, not the dataset.
The string frames at the end go through the writer and are judged by h5py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the plugin filters with h5py
import numpy as np
import pytest

from h5swmr import File, FilterPipeline, SwmrFileReader, SwmrFileWriter
from h5swmr.errors import FrameDtypeError, FrameError, InvalidStateError
from h5swmr.format.chunk_records import ChunkRecord
from h5swmr.format.superblock import Superblock
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import OrderedWriter
from h5swmr.storage.file import FileHandle
from h5swmr.writer.chunk_sink import ChunkSink
from h5swmr.writer.chunking import ChunkGrid
from h5swmr.writer.cut_ahead import CutAhead
from h5swmr.writer.streaming_dataset import SMALL_BAND_NBYTES, StreamingDataset
from h5swmr.writer.tree import DatasetNode
from tests.oracle import OLD_H5PY_VERSIONS
from tests.oracle.h5dump import h5dump_text
from tests.oracle.values import read_values


class Bench:
    """A file, its allocator and sink, and a way to make datasets on them."""

    def __init__(self, path: Path, *, workers: int = 0, cut_ahead: bool = False) -> None:
        self.handle = FileHandle.open(str(path), create=True)
        self.allocator = EofAllocator(Superblock.SIZE)
        self.sink = ChunkSink(
            OrderedWriter(self.handle),
            self.allocator,
            workers=workers,
            cut_ahead=CutAhead(enabled=cut_ahead),
        )

    def dataset(
        self,
        frame_dims: tuple[int, ...],
        chunk: tuple[int, ...] | None = None,
        pipeline: FilterPipeline | None = None,
        dtype: str = "<u2",
    ) -> StreamingDataset:
        numpy_dtype = np.dtype(dtype)
        grid = ChunkGrid(frame_dims, chunk or (1, *frame_dims), numpy_dtype.itemsize)
        if pipeline is not None:
            pipeline = pipeline.for_chunk(numpy_dtype.itemsize, grid.chunk_nbytes)
        index_address = self.allocator.allocate(64)
        return StreamingDataset.create(
            DatasetNode("/data", index=0),
            numpy_dtype,
            grid,
            pipeline=pipeline,
            index_address=index_address,
            allocator=self.allocator,
        )

    def read(self, record: ChunkRecord, size: int) -> bytes:
        return os.pread(self.handle.fd, size, record.address)

    def close(self) -> None:
        self.sink.close()
        self.handle.close()


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    made = Bench(tmp_path / "s.bin")
    yield made
    made.close()


def _frames(count: int, dims: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.integers(0, 4000, dims, dtype="<u2") for _ in range(count)]


def test_an_unfiltered_frame_is_one_chunk_at_the_address_its_index_holds(bench: Bench) -> None:
    dataset = bench.dataset((4, 6))
    frames = _frames(3, (4, 6))
    for frame in frames:
        dataset.append(dataset.coerce(frame), bench.sink)
    assert dataset.frames_appended == 3
    assert dataset.frames_published == 0  # nothing is published before a commit
    for number, frame in enumerate(frames):
        record = dataset.index.get(number)
        assert bench.read(record, frame.nbytes) == frame.tobytes()


@pytest.mark.parametrize("cut_ahead", [False, True])
def test_tiles_of_a_frame_land_where_the_index_points(tmp_path: Path, cut_ahead: bool) -> None:
    bench = Bench(tmp_path / "t.bin", workers=1, cut_ahead=cut_ahead)
    try:
        dataset = bench.dataset((10, 12), chunk=(1, 4, 5))  # 3x3 tiles, edge tiles padded
        frame = _frames(1, (10, 12))[0]
        dataset.append(frame, bench.sink)
        grid = dataset.grid
        padded = np.zeros((12, 15), "<u2")
        padded[:10, :12] = frame
        for tile in range(grid.n_tiles):
            row, col = divmod(tile, 3)
            record = dataset.index.get(grid.chunk_index(0, tile))
            expected = padded[row * 4 : row * 4 + 4, col * 5 : col * 5 + 5]
            assert bench.read(record, grid.chunk_nbytes) == expected.tobytes()
    finally:
        bench.close()


def test_a_band_of_frames_fills_one_chunk_in_place(bench: Bench) -> None:
    dims = (200, 200)  # a band past SMALL_BAND_NBYTES: each frame is written as it comes
    dataset = bench.dataset(dims, chunk=(4, *dims))
    assert dataset.grid.chunk_nbytes > SMALL_BAND_NBYTES
    frames = _frames(3, dims)
    for frame in frames:
        dataset.append(frame, bench.sink)
    record = dataset.index.get(0)
    written = bench.read(record, 3 * frames[0].nbytes)
    assert written == b"".join(f.tobytes() for f in frames)
    assert dataset.first_open_chunk() == 0  # the band is not complete: chunk 0 is still open


def test_a_small_band_is_written_at_the_commit_in_one_write(bench: Bench) -> None:
    dataset = bench.dataset((3, 2), chunk=(4, 3, 2))
    frames = _frames(7, (3, 2))
    size = frames[0].nbytes
    for frame in frames[:2]:
        dataset.append(frame, bench.sink)
    record = dataset.index.get(0)
    assert bench.read(record, 2 * size) == b""  # held until the commit
    dataset.write_pending(bench.sink)
    assert bench.read(record, 2 * size) == frames[0].tobytes() + frames[1].tobytes()
    for frame in frames[2:]:  # completes band 0 (written as band 1 begins), starts band 1
        dataset.append(frame, bench.sink)
    assert bench.read(record, 4 * size) == b"".join(f.tobytes() for f in frames[:4])
    second = dataset.index.get(1)
    dataset.write_pending(bench.sink)
    assert bench.read(second, 3 * size) == b"".join(f.tobytes() for f in frames[4:])


def test_filtered_chunks_are_placed_in_frame_order_with_their_size_and_mask(
    tmp_path: Path,
) -> None:
    bench = Bench(tmp_path / "f.bin", workers=2)
    try:
        pipeline = FilterPipeline.shuffle_deflate(4)
        dataset = bench.dataset((16, 16), pipeline=pipeline)
        frames = _frames(6, (16, 16))
        for frame in frames:
            dataset.append(frame, bench.sink)
        bench.sink.encoder.drain()
        records = [dataset.index.get(i) for i in range(6)]
        addresses = [r.address for r in records]
        assert addresses == sorted(addresses)  # delivered in submission order
        assert dataset.pipeline is not None
        for record, frame in zip(records, frames, strict=True):
            assert record.filter_mask == 0
            stored = bench.read(record, record.size)
            assert dataset.pipeline.decode(stored, 2) == frame.tobytes()
    finally:
        bench.close()


def test_a_partial_filtered_band_goes_to_fresh_chunks_each_time(bench: Bench) -> None:
    pipeline = FilterPipeline.deflate(1)
    dataset = bench.dataset((2, 2), chunk=(3, 2, 2), pipeline=pipeline)
    assert dataset.pipeline is not None
    frames = _frames(3, (2, 2))
    dataset.append(frames[0], bench.sink)
    dataset.filter_partial_band(bench.sink)
    first = dataset.index.get(0)
    dataset.filter_partial_band(bench.sink)  # nothing new: nothing filtered again
    assert dataset.index.get(0) == first
    padded = np.zeros((3, 2, 2), "<u2")
    padded[0] = frames[0]
    assert dataset.pipeline.decode(bench.read(first, first.size), 2) == padded.tobytes()
    dataset.append(frames[1], bench.sink)
    dataset.append(frames[2], bench.sink)  # the band is complete: filtered again, elsewhere
    final = dataset.index.get(0)
    assert final.address > first.address
    assert dataset.pipeline.decode(bench.read(final, final.size), 2) == np.stack(frames).tobytes()


def test_a_prefiltered_chunk_is_stored_verbatim(bench: Bench) -> None:
    pipeline = FilterPipeline.deflate(1)
    dataset = bench.dataset((4,), chunk=(2, 4), pipeline=pipeline)
    assert dataset.pipeline is not None
    raw = np.arange(8, dtype="<u2")
    encoded, _ = dataset.pipeline.encode(raw.tobytes(), 2)
    view, record = dataset.check_chunk(encoded, 0)
    dataset.store_chunk(view, record, bench.sink)
    assert dataset.frames_appended == 2
    stored = dataset.index.get(0)
    assert stored.size == len(encoded)
    assert bench.read(stored, stored.size) == encoded


def test_check_chunk_refuses_a_chunk_after_loose_frames(bench: Bench) -> None:
    dataset = bench.dataset((4,), chunk=(2, 4))
    dataset.append(np.zeros(4, "<u2"), bench.sink)
    eoa = bench.allocator.eoa
    with pytest.raises(InvalidStateError, match="1 frames of an incomplete chunk"):
        dataset.check_chunk(bytes(16), 0)
    assert bench.allocator.eoa == eoa


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (np.zeros((4, 5), "<u2"), FrameError, "shape"),
        (np.zeros((4, 6), "<f4"), FrameDtypeError, "dtype"),
        (b"\0" * 7, FrameError, "7 bytes, expected 48"),
        ("frame", FrameDtypeError, "numpy array or a bytes-like object"),
    ],
)
def test_a_wrong_frame_is_refused_before_anything_is_written(
    bench: Bench, data: object, error: type[Exception], words: str
) -> None:
    dataset = bench.dataset((4, 6))
    eoa = bench.allocator.eoa
    with pytest.raises(error, match=words):
        dataset.coerce(data)
    assert bench.allocator.eoa == eoa
    assert dataset.frames_appended == 0


def test_raw_bytes_in_another_byte_order_are_taken_as_the_dataset_s(bench: Bench) -> None:
    dataset = bench.dataset((3,), dtype=">u2")
    frame = dataset.coerce(b"\x00\x01\x00\x02\x00\x03")
    assert frame.tolist() == [1, 2, 3]
    dataset.append(frame, bench.sink)
    assert bench.read(dataset.index.get(0), 6) == b"\x00\x01\x00\x02\x00\x03"


SPLIT_FRAME = (512, 1024)
"""1 MiB of uint16: LZ4 and bitshuffle cut it into parts over the filter threads."""


@pytest.mark.parametrize("flush_every", [1, 3])
@pytest.mark.parametrize(
    "pipeline",
    [FilterPipeline.lz4(), FilterPipeline.bitshuffle_lz4(), FilterPipeline.deflate()],
    ids=["lz4", "bslz4", "deflate"],
)
def test_a_frame_changed_right_after_append_is_stored_as_it_was(
    tmp_path: Path, pipeline: FilterPipeline, flush_every: int
) -> None:
    """A filtered frame is the application's until append_frame returns, whether the writer
    filters it on the caller's thread (one frame per flush) or queues a copy (several): the
    application may overwrite its buffer at once, and h5py reads back what was appended."""
    rng = np.random.default_rng(flush_every)
    frames = rng.poisson(2.0, (6, *SPLIT_FRAME)).astype("<u2")
    path = tmp_path / "reused.h5"
    buffer = np.empty(SPLIT_FRAME, "<u2")
    with SwmrFileWriter.create(path, workers=2) as writer:
        ds = writer.create_streaming_dataset_compressed("data", "<u2", SPLIT_FRAME, pipeline)
        writer.start_swmr()
        for n, frame in enumerate(frames):
            buffer[...] = frame
            writer.append_frame(ds, buffer)
            buffer[...] = 0xFFFF  # the detector's next frame lands in the same buffer
            if n % flush_every == flush_every - 1:
                writer.flush()
    with h5py.File(path, "r") as f:
        assert np.array_equal(f["data"][()], frames)


# -- fixed-length byte strings (S<n>) ---------------------------------------------------------


def test_string_frames_read_back_exactly_live_and_closed(tmp_path: Path) -> None:
    """A file name and a mode per frame, as metadata of an image, and 2x2 strings per frame:
    bytes, np.bytes_, str (UTF-8) and shorter or longer-but-fitting S arrays are padded with
    NULs; h5py in another process reads them live with swmr=True, then after close; our reader
    returns the same S<n> arrays."""
    path = tmp_path / "strings.h5"
    names = [b"scan_0001.tif", np.bytes_(b"b"), "\u00e9t\u00e9.h5", b""]
    modes = np.array([b"fast", b"slow", b"x", b"fast"], "S4")
    grids = [np.array([[b"a", b"bb"], [b"ccc", b""]], "S3")] * 4
    with SwmrFileWriter.create(path) as writer:
        image = writer.create_streaming_dataset("/image", "<u2", (2,))
        name = writer.create_streaming_dataset("/name", "S16", ())
        mode = writer.create_streaming_dataset_chunked_compressed(
            "/mode", "S8", (), (3,), FilterPipeline.shuffle_deflate()
        )
        grid = writer.create_streaming_dataset_tiled("/grid", "S4", (2, 2), (1, 2))
        writer.set_dataset_fill_value(mode, "none")  # pads the incomplete band of /mode
        writer.start_swmr()
        for i in range(4):
            frame = np.full(2, i, "<u2")
            writer.append_frame(image, frame, metadata={name: names[i], mode: modes[i]})
            writer.append_frame(grid, grids[i].astype("S8") if i % 2 else grids[i])
            if i == 1:
                writer.flush()
                live = read_values(path, swmr=True)["objects"]
                assert live["/name"]["value"] == [{"bytes": "scan_0001.tif"}, {"bytes": "b"}]
                assert live["/mode"]["value"] == [{"bytes": "fast"}, {"bytes": "slow"}]
                assert live["/name"]["string"] == {"encoding": "ascii", "length": 16}
    expected_names = np.array([b"scan_0001.tif", b"b", "\u00e9t\u00e9.h5".encode(), b""], "S16")
    with h5py.File(path, "r") as f:
        assert f["/name"].dtype == np.dtype("S16")
        assert f["/name"][()].tobytes() == expected_names.tobytes()  # NUL-padded, exactly
        assert f["/mode"][()].tolist() == [b"fast", b"slow", b"x", b"fast"]
        assert f["/grid"][()].tolist() == [[[b"a", b"bb"], [b"ccc", b""]]] * 4
        assert f["/name"].fillvalue == b""
        assert f["/mode"].fillvalue == b"none"
    with File(path) as ours:
        assert ours["/name"].dtype == np.dtype("S16")
        assert ours["/name"][()].tobytes() == expected_names.tobytes()
    with SwmrFileReader.open(path) as reader:
        assert reader.read("/grid").tolist() == [[[b"a", b"bb"], [b"ccc", b""]]] * 4
        assert reader.read_frame("/mode", 2).tolist() == b"x"
    for version in sorted(OLD_H5PY_VERSIONS):  # HDF5 1.12 and 1.14
        old = read_values(path, version)["objects"]
        assert old["/name"]["value"][:2] == [{"bytes": "scan_0001.tif"}, {"bytes": "b"}]
        assert old["/mode"]["value"] == [{"bytes": m} for m in ("fast", "slow", "x", "fast")]
        assert old["/mode"]["fillvalue"] == {"bytes": "none"}
    dumped = h5dump_text(path, "/name")  # HDF5 1.10
    assert "STRSIZE 16;" in dumped and "H5T_STR_NULLPAD" in dumped
    assert '"scan_0001.tif\\000\\000\\000"' in dumped and '"b\\000\\000' in dumped


@pytest.mark.parametrize(
    ("frame_dims", "value", "error", "words"),
    [
        ((), b"123456789", FrameError, "9 bytes does not fit S8"),
        ((), "\u00e9" * 5, FrameError, "10 bytes does not fit S8"),
        ((), np.array(b"123456789", "S12"), FrameError, "9 bytes does not fit S8"),
        ((2,), np.array([b"ok", b"123456789"]), FrameError, "9 bytes does not fit S8"),
        ((), 5, FrameDtypeError, "a frame of int, expected S8 bytes"),
        ((), 1.5, FrameDtypeError, "a frame of float"),
        ((), np.array("text"), FrameDtypeError, "np.char.encode"),
        ((2,), ["a", "b"], FrameDtypeError, "numpy array or a bytes-like"),
        ((2,), "ab", FrameDtypeError, "np.char.encode"),
        ((2,), np.array([1, 2]), FrameDtypeError, r"expected S8 bytes of shape \(2,\)"),
        ((2,), np.array([b"a", b"b", b"c"]), FrameError, r"shape \(3,\)"),
        ((2,), b"a", FrameError, "1 bytes, expected 16"),
    ],
)
def test_bad_string_frames_are_refused_and_change_nothing(
    tmp_path: Path, frame_dims: tuple[int, ...], value: object, error: type[Exception], words: str
) -> None:
    path = tmp_path / "bad.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset("/s", "S8", frame_dims)
        writer.start_swmr()
        writer.append_frame(ds, np.zeros(frame_dims, "S8"))
        with pytest.raises(error, match=words) as info:
            writer.append_frame(ds, value)
        assert getattr(info.value, "dataset", "/s") == "/s"
        assert "'/s'" in str(info.value)
        writer.append_frame(ds, np.full(frame_dims, b"next", "S8"))
    with h5py.File(path, "r") as f:
        assert f["/s"].shape == (2, *frame_dims)
        assert f["/s"][1].tolist() == np.full(frame_dims, b"next", "S8").tolist()
