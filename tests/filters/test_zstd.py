"""ZstdFilter (32015): the battery with hdf5plugin as oracle, levels, frame content size."""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import zstandard

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters import placement
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import WORKER_NAME, ZstdFilter, frame_content_size
from h5swmr.format.constants import FilterId

from .conformance import CodecTests


class TestZstdFilter(CodecTests):
    instances = (ZstdFilter(), ZstdFilter(1), ZstdFilter(9), ZstdFilter(-5))


def test_constructor_and_cd_values() -> None:
    assert FilterPipeline.zstd().filters == (ZstdFilter(3),)
    assert FilterPipeline.zstd(7).filters == (ZstdFilter(7),)
    assert ZstdFilter.filter_id == FilterId.ZSTD
    assert int(FilterId.ZSTD) == 32015
    assert ZstdFilter(-5).cd_values(1) == (2**32 - 5,)
    assert ZstdFilter.from_cd_values((2**32 - 5,)) == ZstdFilter(-5)


@pytest.mark.parametrize("size", [0, 1, 255, 256, 300, 65791, 65792, 100_000])
def test_declared_size_is_the_frame_content_size(size: int) -> None:
    encoded = ZstdFilter().encode(bytes(size), 1)
    assert FilterPipeline.zstd().declared_size(encoded) == size


def test_frame_without_content_size() -> None:
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(b"abc" * 100)
    assert frame_content_size(frame) is None
    with pytest.raises(FilterError, match="content size"):
        ZstdFilter().decode(frame, 1)


@pytest.mark.parametrize("level", [23, -131073, True, "3", None])
def test_invalid_level(level: object) -> None:
    with pytest.raises(FilterError):
        ZstdFilter(level)  # type: ignore[arg-type]


def test_corrupt_chunks_raise_filter_error() -> None:
    encoded = ZstdFilter().encode(bytes(range(50)) * 100, 1)
    for bad in (b"", b"abcdefgh", encoded[:-3], encoded[:8] + b"\xff" * 30):
        with pytest.raises(FilterError, match="zstd"):
            ZstdFilter().decode(bad, 1)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(FilterUnavailableError, match=r'zstandard.*pip install "h5swmr\[codecs\]"'):
        FilterPipeline.zstd(3)


# -- the multi-threaded compressors each thread keeps ---------------------------------------


def _split(chunk: bytes, level: int = 3) -> bytes:
    with ThreadPoolExecutor(2) as pool:
        return ZstdFilter(level).encode_split(chunk, 2, ChunkSplitter(pool, 2))


def _encode_in_child(chunk: bytes, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    results.put(_split(chunk))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_makes_its_own_compressor() -> None:
    """The child of a process that compressed inherits the compressor but not its workers: a
    job handed to it would wait for ever."""
    chunk = bytes(range(256)) * 8192  # 2 MiB, two jobs
    assert zstandard.ZstdDecompressor().decompress(_split(chunk)) == chunk
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_encode_in_child, args=(chunk, results))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: on purpose
        child.start()
    try:
        encoded = results.get(timeout=60)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert zstandard.ZstdDecompressor().decompress(encoded) == chunk


def test_a_thread_keeps_a_compressor_per_chunk_size() -> None:
    """Two datasets of different frame sizes alternate without making a compressor per chunk."""
    small, large = bytes(range(256)) * 5000, bytes(range(256)) * 9000  # sizes of this test alone
    before = placement._named(WORKER_NAME)
    for chunk in (small, large, small, large):
        assert zstandard.ZstdDecompressor().decompress(_split(chunk)) == chunk
    assert len(placement._named(WORKER_NAME) - before) == 2 * 2  # two compressors of two workers
