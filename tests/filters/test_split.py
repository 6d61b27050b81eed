"""One large chunk split across threads: the same bytes (or the same data) real readers expect.

libhdf5 is the oracle: for bitshuffle-LZ4 and LZ4 the split chunk equals, byte for byte, what
hdf5plugin stores; deflate slices joined into one zlib stream are read by h5py and h5dump 1.10;
zstd's multi-threaded frame and blosc's threaded buffer are read by h5py through hdf5plugin.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the plugin filters with h5py
import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import ThreadpoolController

from h5swmr import SwmrFileWriter
from h5swmr.filters import blosc, deflate
from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleCompression, BitshuffleFilter
from h5swmr.filters.deflate import DeflateFilter, adler32_combine, zlib_header
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import ZstdFilter, frame_content_size
from tests.oracle.h5dump import h5dump_data

from .oracle import Layout, read_raw_chunks, write_with_h5py

FRAME = (1024, 1024)
"""A detector frame of uint16: 2 MiB, above every codec's split threshold."""


@pytest.fixture(scope="module")
def splitter() -> Iterator[ChunkSplitter]:
    with ThreadPoolExecutor(4, "test-split") as pool:
        yield ChunkSplitter(pool, 4)


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(17).poisson(2.0, (3, *FRAME)).astype("<u2")


# -- the splitter ---------------------------------------------------------------------------


def test_map_keeps_order_and_uses_the_threads(splitter: ChunkSplitter) -> None:
    names: list[str] = []
    barrier = threading.Barrier(2, timeout=30)

    def work(item: int) -> int:
        names.append(threading.current_thread().name)
        if item < 2:
            barrier.wait()
        return item * item

    assert splitter.map(work, list(range(8))) == [i * i for i in range(8)]
    assert any(name.startswith("test-split") for name in names)


def test_parts_follow_workers_and_minimum(splitter: ChunkSplitter) -> None:
    assert splitter.parts(100, 1000) == 1
    assert splitter.parts(2500, 1000) == 2
    assert splitter.parts(1 << 30, 1000) == 4
    with pytest.raises(ValueError, match="workers"):
        ChunkSplitter(ThreadPoolExecutor(1), 1)


def test_nested_splits_on_a_full_pool_never_deadlock() -> None:
    """Every pool thread runs a chunk that splits: the parts queued behind them run inline."""
    with ThreadPoolExecutor(2) as pool:
        inner = ChunkSplitter(pool, 2)

        def chunk(index: int) -> list[int]:
            return inner.map(lambda part: index * 10 + part, [0, 1, 2, 3])

        futures = [pool.submit(chunk, i) for i in range(6)]
        results = [f.result(timeout=60) for f in futures]
    assert results == [[i * 10 + p for p in range(4)] for i in range(6)]


def test_parts_no_thread_picked_up_run_in_the_caller() -> None:
    """While the pool's only thread is held, the calling thread runs every part: parts no
    thread picked up are taken back, and nothing waits for them."""
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(release.wait, 30)
        splitter = ChunkSplitter(pool, 2)
        names: list[str] = []

        def work(item: int) -> int:
            names.append(threading.current_thread().name)
            return item + 1

        assert splitter.map(work, list(range(8))) == list(range(1, 9))
        release.set()
        held.result(timeout=30)
    assert set(names) == {threading.current_thread().name}


def test_a_failing_part_raises_in_the_caller(splitter: ChunkSplitter) -> None:
    def work(item: int) -> int:
        if item == 3:
            raise RuntimeError("part 3")
        return item

    with pytest.raises(RuntimeError, match="part 3"):
        splitter.map(work, [0, 1, 2, 3])


# -- deflate: pigz-style slices in one zlib stream ------------------------------------------


@given(st.binary(max_size=3000), st.binary(max_size=70_000))
def test_adler32_combine_equals_adler32_of_the_whole(first: bytes, second: bytes) -> None:
    combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(first + second)


def test_adler32_combine_at_the_modulus() -> None:
    ones = b"\xff" * 100_000  # sums far past 65521
    assert adler32_combine(zlib.adler32(ones), zlib.adler32(ones), len(ones)) == zlib.adler32(
        ones + ones
    )


@pytest.mark.parametrize("level", range(10))
def test_zlib_header_is_zlibs(level: int) -> None:
    assert zlib_header(level) == zlib.compress(b"x", level)[:2]


@pytest.mark.parametrize("backend", sorted(deflate.SPLIT_MIN_PART_BYTES))
@pytest.mark.parametrize("level", [1, 6])  # 9 is slow on zlib (lazy matches on sparse data)
def test_split_deflate_is_one_zlib_stream(
    splitter: ChunkSplitter, frames: np.ndarray, backend: str, level: int
) -> None:
    item = DeflateFilter(level, backend=backend)
    chunk = frames[0].tobytes()
    encoded = item.encode_split(chunk, 2, splitter)
    assert encoded != item.encode(chunk, 2)  # really split: the slices restart the matches
    assert encoded[:2] == zlib_header(level)
    decompressor = zlib.decompressobj()
    assert decompressor.decompress(encoded) == chunk
    assert decompressor.eof
    assert not decompressor.unused_data


def test_libdeflate_and_libhdf5_backends_never_split(
    splitter: ChunkSplitter, frames: np.ndarray
) -> None:
    chunk = frames[0].tobytes()
    exact = DeflateFilter(4, backend="libhdf5")
    assert exact.encode_split(chunk, 2, splitter) == zlib.compress(chunk, 4)
    assert exact.backend_in_use == "libhdf5"
    if deflate.resolve_backend("auto") != "libdeflate":
        try:
            libdeflate = DeflateFilter(4, backend="libdeflate")
        except ImportError:
            return
        assert libdeflate.encode_split(chunk, 2, splitter) == libdeflate.encode(chunk, 2)


def test_small_chunks_stay_on_one_thread(splitter: ChunkSplitter) -> None:
    chunk = np.arange(4096, dtype="<u2").tobytes()  # 8 KiB: under every threshold
    for item in (DeflateFilter(4, backend="zlib"), ZstdFilter(3), LZ4Filter(1024)):
        assert item.encode_split(chunk, 2, splitter) == item.encode(chunk, 2)


def _write(path: Path, frames: np.ndarray, pipeline: FilterPipeline) -> None:
    with SwmrFileWriter.create(path, workers=2) as writer:
        ds = writer.create_streaming_dataset_compressed("data", "<u2", FRAME, pipeline)
        writer.start_swmr()
        for frame in frames:
            writer.append_frame(ds, frame)
            writer.flush()


@pytest.mark.parametrize("backend", ["zlib", "isal", "libhdf5"])
def test_libhdf5_and_h5dump_1_10_read_split_deflate(
    tmp_path: Path, frames: np.ndarray, backend: str
) -> None:
    path = tmp_path / f"{backend}.h5"
    _write(path, frames, FilterPipeline([DeflateFilter(4, backend=backend)]))
    layout = Layout("<u2", frames.shape, (1, *FRAME))
    stored = [chunk for _, chunk in read_raw_chunks(path, layout)]
    exact = [zlib.compress(frame.tobytes(), 4) for frame in frames]
    if backend == "libhdf5":
        assert stored == exact  # libhdf5's own bytes
    else:
        assert all(ours != theirs for ours, theirs in zip(stored, exact, strict=True))
    with h5py.File(path, "r") as file:
        assert file["data"].compression == "gzip"
        assert file["data"][...].tobytes() == frames.tobytes()
    assert h5dump_data(path, "data", "<u2", frames.shape).tobytes() == frames.tobytes()


# -- block codecs: the same bytes as hdf5plugin ---------------------------------------------

IDENTICAL: tuple[Filter, ...] = (
    BitshuffleFilter(),
    BitshuffleFilter(2048),
    BitshuffleFilter(0, BitshuffleCompression.ZSTD, 3),
    LZ4Filter(),  # h5swmr's default, 256 KiB blocks, compared with hdf5plugin at that size
    LZ4Filter(0),  # hdf5plugin's default, one block per chunk: never split
    LZ4Filter(100_000),  # blocks that do not divide the chunk
)


@pytest.mark.parametrize("item", IDENTICAL, ids=repr)
def test_split_block_codecs_equal_hdf5plugins_bytes(
    tmp_path: Path, splitter: ChunkSplitter, item: Filter
) -> None:
    rng = np.random.default_rng(3)
    data = rng.poisson(2.0, (2, 1000, 1031)).astype("<u2")  # odd sizes: partial and tail blocks
    layout = Layout("<u2", data.shape, (1, 1000, 1031))
    path = tmp_path / "plugin.h5"
    write_with_h5py(path, layout, [item], data)
    for frame, (mask, stored) in zip(data, read_raw_chunks(path, layout), strict=True):
        assert mask == 0
        pipeline = FilterPipeline([item])
        ours = pipeline.encode(frame.tobytes(), 2, splitter)
        assert ours == (stored, 0), item


TASKS = Path("/proc/self/task")


def _threads() -> set[Path]:
    return set(TASKS.iterdir())


@pytest.mark.skipif(
    not TASKS.is_dir() or (os.cpu_count() or 1) < 2,
    reason="counts the threads of a Linux process with OpenMP's default above one thread",
)
def test_split_bitshuffle_starts_no_openmp_threads(frames: np.ndarray) -> None:
    """The bitshuffle wheel's OpenMP would start a team per calling thread (as many threads as
    cores): the splitter's threads run their parts alone, the caller's thread keeps its own
    OpenMP setting, and the bytes stay the same."""
    item = BitshuffleFilter()
    chunk = frames[0].tobytes()
    expected = item.encode(chunk, 2)
    openmp = ThreadpoolController().select(user_api="openmp")
    caller_setting = openmp.info()
    with ThreadPoolExecutor(2, "test-openmp") as pool:
        started = threading.Barrier(2)
        for _ in range(2):  # both pool threads exist before the count
            pool.submit(started.wait, 5)
        pool.submit(started.reset).result()
        before = _threads()
        splitter = ChunkSplitter(pool, 2)
        encoded = [pool.submit(item.encode_split, chunk, 2, splitter).result() for _ in range(3)]
        after = _threads()
    assert encoded == [expected] * 3
    assert after - before == set()
    assert openmp.info() == caller_setting


def test_split_bitshuffle_on_the_application_s_thread_keeps_its_openmp_setting(
    splitter: ChunkSplitter, frames: np.ndarray
) -> None:
    """The writer filters a lone chunk on the application's thread, which runs one part: its
    OpenMP is limited to one thread while the part runs, and its own setting comes back."""
    item = BitshuffleFilter()
    chunk = frames[1].tobytes()
    openmp = ThreadpoolController().select(user_api="openmp")
    caller_setting = openmp.info()
    assert item.encode_split(chunk, 2, splitter) == item.encode(chunk, 2)
    assert openmp.info() == caller_setting


# -- codecs with their own threads: one valid frame or buffer -------------------------------


def test_zstd_split_is_one_frame_with_its_content_size(
    tmp_path: Path, splitter: ChunkSplitter, frames: np.ndarray
) -> None:
    item = ZstdFilter(3)
    chunk = frames[0].tobytes()
    encoded = item.encode_split(chunk, 2, splitter)
    assert encoded != item.encode(chunk, 2)  # made by zstd's workers, job by job
    assert frame_content_size(encoded) == len(chunk)
    assert item.encode_split(chunk, 2, splitter) == encoded  # the same frame each time
    second = frames[1].tobytes()
    assert zstandard.ZstdDecompressor().decompress(item.encode_split(second, 2, splitter)) == second
    path = tmp_path / "zstd.h5"
    _write(path, frames, FilterPipeline([item]))
    with h5py.File(path, "r") as file:
        assert file["data"][...].tobytes() == frames.tobytes()


@pytest.mark.parametrize("cname", ["lz4", "zstd", "blosclz"])
def test_blosc_with_its_own_threads_reads_back(
    tmp_path: Path, frames: np.ndarray, cname: str
) -> None:
    path = tmp_path / "blosc.h5"
    pipeline = FilterPipeline.blosc(cname)  # type: ignore[arg-type]
    _write(path, frames, pipeline)
    with h5py.File(path, "r") as file:
        assert file["data"][...].tobytes() == frames.tobytes()
    assert blosc._compress_ctx() is not None  # the threaded entry point was there to use


def test_the_environment_setting_writes_libhdf5s_exact_bytes(
    tmp_path: Path, frames: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``H5SWMR_DEFLATE_BACKEND=libhdf5``: what "auto" picks becomes one stdlib stream a chunk."""
    monkeypatch.setenv(deflate.BACKEND_ENVIRONMENT_VARIABLE, "libhdf5")
    deflate.forget_backend_choice()
    try:
        assert DeflateFilter(4).backend_in_use == "libhdf5"
        path = tmp_path / "exact.h5"
        _write(path, frames, FilterPipeline.deflate(4))
    finally:
        monkeypatch.undo()
        deflate.forget_backend_choice()
    layout = Layout("<u2", frames.shape, (1, *FRAME))
    stored = [chunk for _, chunk in read_raw_chunks(path, layout)]
    assert stored == [zlib.compress(frame.tobytes(), 4) for frame in frames]
