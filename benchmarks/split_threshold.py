"""Where splitting one chunk across threads starts to pay, per codec: sets SPLIT_MIN_PART_BYTES.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/split_threshold.py [--workers 2] [--repeat 15]

For chunk sizes from 16 KiB to 4 MiB of uint16 Poisson(2) data, times each codec's ``encode``
on one pool thread and its ``encode_split`` over ``--workers`` threads (the split forced at every
size), the best of ``--repeat`` runs each (the minimum is the least disturbed by other load on a
shared machine), and prints the speed-up. A codec's ``SPLIT_MIN_PART_BYTES`` should be about the
chunk size where the speed-up first stays above ~1.1, divided by the workers.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from h5swmr.filters import bitshuffle, blosc, deflate, lz4, zstd
from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.blosc import BloscFilter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import ZstdFilter

SIZES = [1 << k for k in range(14, 23)]


def codecs() -> dict[str, Filter]:
    found: dict[str, Filter] = {
        "deflate4 zlib": DeflateFilter(4, backend="zlib"),
        "deflate4 isal": DeflateFilter(4, backend="isal"),
        "lz4 (64 KiB blocks)": LZ4Filter(1 << 16),
        "bitshuffle-lz4": BitshuffleFilter(),
        "zstd 3": ZstdFilter(3),
        "blosc lz4 byte": BloscFilter(),
    }
    return found


def force_split() -> None:
    """Every codec splits whatever the chunk size (the threshold under test)."""
    for key in deflate.SPLIT_MIN_PART_BYTES:
        deflate.SPLIT_MIN_PART_BYTES[key] = 1
    for module in (lz4, bitshuffle, blosc):
        setattr(module, "SPLIT_MIN_PART_BYTES", 1)  # noqa: B010 - Final to mypy, not to this
    setattr(zstd, "SPLIT_MIN_PART_BYTES", 512 * 1024)  # noqa: B010 - ZSTDMT's smallest job


def best(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    force_split()
    rng = np.random.default_rng(20260509)
    data = rng.poisson(2.0, SIZES[-1] // 2).astype("<u2").tobytes()
    # the writer's filter threads run bitshuffle without OpenMP teams of their own (see
    # bitshuffle.one_openmp_thread): so do these, from the first measurement on
    pool = ThreadPoolExecutor(args.workers, "split-threshold", bitshuffle.one_openmp_thread)
    splitter = ChunkSplitter(pool, args.workers)
    print(f"load average {os.getloadavg()[0]:.2f}; best of {args.repeat}; speed-up of the split")
    print(f"{'codec':22}" + "".join(f"{size // 1024:>8}K" for size in SIZES))
    for name, item in codecs().items():
        cells = []
        for size in SIZES:
            chunk = data[:size]

            def one(item: Filter = item, chunk: bytes = chunk) -> float:
                return best(lambda: item.encode(chunk, 2), args.repeat)

            def split(item: Filter = item, chunk: bytes = chunk) -> float:
                return best(lambda: item.encode_split(chunk, 2, splitter), args.repeat)

            alone = pool.submit(one).result()
            spread = pool.submit(split).result()
            cells.append(f"{alone / spread:9.2f}")
        print(f"{name:22}" + "".join(cells))
    print(f"(load average {os.getloadavg()[0]:.2f} at the end)")
    pool.shutdown()


if __name__ == "__main__":
    main()
