"""How zstd's worker threads are fed: sets ``zstd.PAUSE`` and checks ``placement.spread``.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/zstd_jobs.py [--chunks 600] [--rounds 3]

``ZstdFilter.encode_split`` compresses one chunk of 16 distinct 1024x1024 uint16 Poisson(2)
frames after another over the writer's worker count (as in the f1-zstd row of bench_write.py),
each chunk then written with ``os.pwrite``, in four variants: no pause between jobs,
``time.sleep(0)`` between them, the pause, and the pause with the workers spread one per CPU
(the default). Each variant runs in a fresh process (zstd's workers and the kernel's placement
start anew), the variants alternate for ``--rounds``, and each line gives the mean and median
ms per chunk (the first 10 left out) and how many chunks took over 5 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor

VARIANTS = ("no-pause", "sleep(0)", "pause", "pause+spread")


def child(variant: str, chunks: int) -> None:
    import numpy as np

    from h5swmr.filters import placement, zstd
    from h5swmr.filters.split import ChunkSplitter

    if variant == "no-pause":
        zstd.time = types.SimpleNamespace(sleep=lambda seconds: None)  # type: ignore[attr-defined]
    if variant.startswith("sleep(0)"):
        zstd.PAUSE = 0  # type: ignore[misc]
    if not variant.endswith("+spread"):
        placement.spread = lambda thread_ids: False
    frames = np.random.default_rng(20261203).poisson(2.0, (16, 1024, 1024)).astype(np.uint16)
    workers = max(2, min(4, os.cpu_count() or 1))  # the writer's default pool, at least 2
    splitter = ChunkSplitter(ThreadPoolExecutor(workers), workers)
    codec = zstd.ZstdFilter(3)
    seconds: list[float] = []
    with tempfile.TemporaryFile() as out:
        offset = 0
        for i in range(chunks + 10):
            start = time.perf_counter()
            packed = codec.encode_split(frames[i % 16], 2, splitter)
            seconds.append(time.perf_counter() - start)
            offset += os.pwrite(out.fileno(), packed, offset)
    kept = seconds[10:]
    print(
        f"{variant:13s} mean {statistics.mean(kept) * 1e3:5.2f} ms"
        f"  median {statistics.median(kept) * 1e3:5.2f} ms"
        f"  over 5 ms: {sum(s > 5e-3 for s in kept)} of {len(kept)}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.chunks)
        return
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    for _ in range(args.rounds):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--child", variant, "--chunks", str(args.chunks)]
            subprocess.run(command, check=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
