"""Does each codec call release the GIL? Measured, not assumed.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/check_gil.py

For every filter h5swmr splits or threads, one thread encodes a 1024x1024 uint16 Poisson(2)
frame five times while the main thread spins in pure Python. A call that holds the GIL stops the
spinning thread for its whole length, so the CPU time the main thread gets meanwhile, against
the wall time of the calls, tells. On a busy machine both shares shrink, so each call is judged
against two controls measured in the same run: ``hashlib.sha256`` of the frame (documented to
release the GIL) and ``bytes.count`` over it (holds it): nearer the first, the call releases.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from h5swmr.filters import deflate
from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.blosc import BloscFilter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import ZstdFilter

REPEAT = 5


def share_while(call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds of ``REPEAT`` calls on a thread, main-thread CPU seconds meanwhile)."""
    call()
    done = threading.Event()
    wall = [0.0]

    def run() -> None:
        start = time.perf_counter()
        for _ in range(REPEAT):
            call()
        wall[0] = time.perf_counter() - start
        done.set()

    worker = threading.Thread(target=run)
    start_cpu = time.thread_time()
    worker.start()
    spins = 0
    while not done.is_set():
        spins += 1
    main_cpu = time.thread_time() - start_cpu
    worker.join()
    return wall[0], main_cpu


def main() -> None:
    chunk = np.random.default_rng(0).poisson(2.0, (1024, 1024)).astype("<u2").tobytes()
    view = memoryview(chunk)
    filters: dict[str, Filter] = {
        "deflate 4, zlib": DeflateFilter(4, backend="zlib"),
        "deflate 4, isal": DeflateFilter(4, backend="isal"),
        "lz4": LZ4Filter(),
        "bitshuffle-lz4": BitshuffleFilter(),
        "zstd 3": ZstdFilter(3),
        "blosc lz4": BloscFilter(),
    }
    calls: dict[str, Callable[[], object]] = {
        f"{name}: encode": functools.partial(item.encode, chunk, 2)
        for name, item in filters.items()
    }
    half = (view[: len(chunk) // 2], False)
    for backend in deflate.SPLIT_MIN_PART_BYTES:
        calls[f"deflate slice, {backend}"] = functools.partial(deflate._raw_slice, backend, 4, half)
    big = chunk * 8  # one long C call each, as a codec call is
    controls: dict[str, Callable[[], object]] = {
        "control: hashlib.sha256 (releases)": lambda: hashlib.sha256(big),
        "control: bytes.count (holds)": lambda: big.count(b"\x01"),
    }
    shares = {name: share_while(call) for name, call in controls.items()}
    released, held = (main / wall for wall, main in shares.values())
    print(f"{'call':44} {'wall ms':>9} {'main CPU':>9}  verdict")
    for name, (wall, main_cpu) in shares.items():
        print(f"{name:44} {wall * 1e3 / REPEAT:9.2f} {main_cpu / wall:8.0%}")
    with ThreadPoolExecutor(2) as pool:
        splitter = ChunkSplitter(pool, 2)
        calls["zstd 3: encode_split (zstd's threads)"] = lambda: ZstdFilter(3).encode_split(
            chunk, 2, splitter
        )
        calls["blosc lz4: encode_split (blosc's threads)"] = lambda: BloscFilter().encode_split(
            chunk, 2, splitter
        )
        for name, call in calls.items():
            wall, main_cpu = share_while(call)
            share = main_cpu / wall if wall else 0.0
            nearer_release = abs(share - released) < abs(share - held)
            verdict = "releases the GIL" if nearer_release else "HOLDS the GIL"
            print(f"{name:44} {wall * 1e3 / REPEAT:9.2f} {share:8.0%}  {verdict}")


if __name__ == "__main__":
    main()
