"""Latency from a writer's flush() to SwmrFileReader.follow() yielding the frame, for an h5swmr
writer and an h5py (libhdf5) SWMR writer in another process (run by hand; never asserted).

python -m tests.reader.bench_follow [N_FRAMES] [INTERVAL_S]

Each writer appends 64x64 float64 frames, flushing after each and printing the time the flush
returned; the follower polls every millisecond. Both processes read the same clock (time.time()).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.reader.test_live import follow_live

CASES = [
    ("h5swmr", "plain", 1),
    ("h5swmr", "deflate", 1),
    ("h5py", "plain", 1),
    ("h5py", "plain", 4),
    ("h5py", "gzip", 1),
    ("h5py", "gzip", 4),
]


def main() -> None:
    n, interval = int(sys.argv[1]) if len(sys.argv) > 1 else 500, 0.002
    if len(sys.argv) > 2:
        interval = float(sys.argv[2])
    print(f"{n} frames of 64x64 float64, one flush each, {interval * 1e3:.1f} ms apart")
    heads = ("p50 ms", "p90 ms", "p99 ms")
    print(
        f"{'writer':8s} {'filter':8s} {'frames/chunk':>12s} " + " ".join(f"{h:>8s}" for h in heads)
    )
    for writer, variant, per_chunk in CASES:
        path = Path(tempfile.mkdtemp()) / "follow.h5"
        latencies = np.array(follow_live(path, n, interval, variant, writer, per_chunk)) * 1e3
        p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
        print(f"{writer:8s} {variant:8s} {per_chunk:12d} {p50:8.2f} {p90:8.2f} {p99:8.2f}")


if __name__ == "__main__":
    main()
