"""Reading throughput against h5py on uncompressed frames (run by hand; speed is never asserted).

python -m tests.reader.bench_read [N_FRAMES] [SIDE ...]

For each frame side (default 64 and 512: 64x64 and 512x512 uint16 frames, one per chunk, written
by h5swmr), both readers open the file in the same process and run each case; best of 5.
"frame by frame, cold" refreshes first (h5py: Dataset.refresh()), so index blocks are read again.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from h5swmr.reader import SwmrFileReader
from h5swmr.writer.swmr_file_writer import SwmrFileWriter


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def bench(n: int, side: int) -> None:
    path = Path(tempfile.mkdtemp()) / "bench.h5"
    frame = np.arange(side * side, dtype=np.uint16).reshape(side, side)
    with SwmrFileWriter.create(path) as w:
        ds = w.create_streaming_dataset("frames", np.uint16, (side, side))
        w.start_swmr()
        for _ in range(n):
            w.append_frame(ds, frame)
    mib = n * frame.nbytes / 2**20
    with h5py.File(path, "r", swmr=True) as f, SwmrFileReader.open(path) as r:
        d = f["frames"]
        assert r.read_frames("frames", 0, n).tobytes() == d[:].tobytes()
        assert all(r.read_frame("frames", i).tobytes() == d[i].tobytes() for i in range(n))

        def cold_ours() -> None:
            r.refresh()
            for i in range(n):
                r.read_frame("frames", i)

        def cold_theirs() -> None:
            d.refresh()
            for i in range(n):
                d[i]

        cases = {
            "all frames at once": (lambda: r.read_frames("frames", 0, n), lambda: d[0:n]),
            "frame by frame": (
                lambda: [r.read_frame("frames", i) for i in range(n)],
                lambda: [d[i] for i in range(n)],
            ),
            "frame by frame, cold": (cold_ours, cold_theirs),
        }
        print(f"\n{n} frames of {side}x{side} uint16 ({frame.nbytes} bytes), one per chunk")
        print(f"{'case':22s} {'h5swmr MiB/s':>13s} {'h5py MiB/s':>11s} {'us/frame':>9s} "
              f"{'h5py us':>8s} {'ratio':>6s}")  # fmt: skip
        for label, (ours, theirs) in cases.items():
            t_ours, t_theirs = best(ours), best(theirs)
            print(
                f"{label:22s} {mib / t_ours:13.0f} {mib / t_theirs:11.0f} "
                f"{t_ours / n * 1e6:9.1f} {t_theirs / n * 1e6:8.1f} {t_theirs / t_ours:6.2f}"
            )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for side in [int(a) for a in sys.argv[2:]] or [64, 512]:
        bench(n if side <= 128 else min(n, 400), side)


if __name__ == "__main__":
    main()
