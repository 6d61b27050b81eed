"""Reading throughput against h5py on uncompressed frames (run by hand; speed is never asserted).

python -m tests.reader.bench_read [N_FRAMES] [SIDE]
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


def main() -> None:
    n, side = (int(a) for a in [*sys.argv[1:], "1000", "512"][:2])
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
        cases = {
            "all frames at once": (lambda: r.read_frames("frames", 0, n), lambda: d[0:n]),
            "frame by frame": (
                lambda: [r.read_frame("frames", i) for i in range(n)],
                lambda: [d[i] for i in range(n)],
            ),
        }
        for label, (ours, theirs) in cases.items():
            t_ours, t_theirs = best(ours), best(theirs)
            print(
                f"{label:20s} h5swmr {mib / t_ours:8.0f} MiB/s   h5py {mib / t_theirs:8.0f} MiB/s"
                f"   ratio {t_theirs / t_ours:.2f}"
            )


if __name__ == "__main__":
    main()
