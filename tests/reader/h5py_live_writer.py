"""An h5py (libhdf5) SWMR writer process for live tests: resize, write and flush per frame, then
print when each flush ended; the same output as tests.reader.live_writer.

Usage: python -m tests.reader.h5py_live_writer PATH N_FRAMES INTERVAL_S VARIANT FRAMES_PER_CHUNK
VARIANT is "plain" or "gzip"; frame i is 64x64 float64 filled with i.
"""

from __future__ import annotations

import sys
import time

import h5py
import numpy as np

FRAME = (64, 64)


def main() -> None:
    path, n, interval, variant = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    per_chunk = int(sys.argv[5])
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset(
            "frames",
            shape=(0, *FRAME),
            maxshape=(None, *FRAME),
            chunks=(per_chunk, *FRAME),
            dtype=np.float64,
            compression="gzip" if variant == "gzip" else None,
        )
        f.swmr_mode = True
        print("ready", flush=True)
        for i in range(n):
            ds.resize((i + 1, *FRAME))
            ds[i] = np.full(FRAME, float(i))
            ds.flush()
            print(i, time.time(), flush=True)
            time.sleep(interval)


if __name__ == "__main__":
    main()
