"""The LZ4 filter's block size: compression ratio and speed, one thread and split across threads.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/lz4_block_size.py [--workers 2] [--repeat 15]

For block sizes from 64 KiB to 1 MiB, and 0 (hdf5plugin's default: one block per chunk), times
``LZ4Filter(block).encode`` on one thread and ``encode_split`` over ``--workers`` threads (the
best of ``--repeat`` runs each: the minimum is the least disturbed by other load), and prints
the compression ratio, both speeds and the speed-up over one whole-chunk block. Frames:

- ``poisson2``: 1024x1024 uint16 Poisson(2), the frames of ``bench_write.py``'s ``f1-`` rows;
- ``eiger4m``: an EIGER2 4M-like frame, 2162x2068 uint32: a weak diffuse background (mean 0.05
  to 0.5 counts by radius, Poisson), 400 Bragg spots, module and chip gaps at 0xFFFFFFFF, a
  beam stop at 0 (the look of a protein crystallography frame: mostly zeros);
- ``eiger4m-u16``: the same frame as uint16 (gaps 0xFFFF), as detectors in 16-bit mode send.

Sets ``lz4.DEFAULT_BLOCK_SIZE``: the smallest block whose ratio stays within ~1% of one block
per chunk and whose split speed is near the best.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from split_threshold import best  # the same best-of-N clock, from the script beside this one

from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.split import ChunkSplitter

BLOCKS = [0, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20]


def eiger_frame(rng: np.random.Generator, dtype: str) -> np.ndarray:
    """A 2162x2068 frame with an EIGER2 4M's module and chip gaps, mostly zeros."""
    rows, cols = 2162, 2068
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot(y - rows / 2 - 40, x - cols / 2 + 25)
    mean = 0.05 + 0.45 * np.exp(-(((r - 600) / 150) ** 2))  # a diffuse ring over a weak floor
    frame = rng.poisson(mean).astype(np.int64)
    for _ in range(400):  # Bragg spots: a few pixels of hundreds of counts
        cy, cx = rng.integers(5, rows - 5), rng.integers(5, cols - 5)
        peak = rng.integers(20, 2000)
        dy, dx = np.mgrid[-3:4, -3:4]
        spot = np.exp(-(dy**2 + dx**2) / 2.0)
        frame[cy - 3 : cy + 4, cx - 3 : cx + 4] += rng.poisson(peak * spot)
    frame[(r < 30)] = 0  # beam stop
    gap = np.iinfo(dtype).max
    for start in range(514, rows, 514 + 37):  # module rows: 514 px, gaps of 37
        frame[start : start + 37] = gap
    for start in range(1030, cols, 1030 + 10):  # module columns: 1030 px, gaps of 10
        frame[:, start : start + 10] = gap
    for start in range(256, rows, 514 + 37):  # chip rows inside a module: 2 px
        frame[start : start + 2] = gap
    clipped: np.ndarray = np.clip(frame, 0, gap).astype(dtype)
    return clipped


def frames() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "poisson2": rng.poisson(2.0, (1024, 1024)).astype(np.uint16),
        "eiger4m": eiger_frame(rng, "uint32"),
        "eiger4m-u16": eiger_frame(rng, "uint16"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with ThreadPoolExecutor(args.workers) as pool:
        splitter = ChunkSplitter(pool, args.workers)
        for name, frame in frames().items():
            raw = frame.tobytes()
            size = frame.dtype.itemsize
            print(f"\n{name}: {frame.shape} {frame.dtype}, {len(raw) / 2**20:.2f} MiB")
            print(
                "| block | ratio | vs one block | 1 thread MB/s | split MB/s | split vs one block |"
            )
            print("|---|--:|--:|--:|--:|--:|")
            whole = None
            for block in BLOCKS:
                codec = LZ4Filter(block)
                encoded = codec.encode(raw, size)
                assert codec.encode_split(raw, size, splitter) == encoded
                one = best(lambda: pool.submit(codec.encode, raw, size).result(), args.repeat)  # noqa: B023 - called at once
                split = best(lambda: codec.encode_split(raw, size, splitter), args.repeat)  # noqa: B023
                ratio = len(raw) / len(encoded)
                if whole is None:
                    whole = (ratio, one)
                label = f"{block >> 10} KiB" if block else "0 (one block)"
                print(
                    f"| {label} | {ratio:.3f} | {ratio / whole[0] - 1:+.2%} | "
                    f"{len(raw) / one / 1e6:,.0f} | {len(raw) / split / 1e6:,.0f} | "
                    f"{whole[1] / split:.2f}x |"
                )


if __name__ == "__main__":
    main()
