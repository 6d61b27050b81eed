"""A writer process for live tests: appends frames, flushing each, and prints when each flush ended.

Usage: python -m tests.reader.live_writer PATH N_FRAMES INTERVAL_S VARIANT
"""

from __future__ import annotations

import sys
import time

import numpy as np

from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.writer.swmr_file_writer import SwmrFileWriter

FRAME = (64, 64)


def main() -> None:
    path, n, interval, variant = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    with SwmrFileWriter.create(path) as w:
        if variant == "deflate":
            ds = w.create_streaming_dataset_compressed(
                "frames", np.float64, FRAME, FilterPipeline.shuffle_deflate()
            )
        else:
            ds = w.create_streaming_dataset("frames", np.float64, FRAME)
        w.start_swmr()
        print("ready", flush=True)
        for i in range(n):
            w.append_frame(ds, np.full(FRAME, float(i)))
            w.flush()
            print(i, time.time(), flush=True)
            time.sleep(interval)


if __name__ == "__main__":
    main()
