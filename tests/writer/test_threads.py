"""One writer, several threads: a producer appending frames while a timer thread flushes and a
status thread reads stats(), as detector software does. Every call runs whole, so readers only
ever see complete, correct frames and the closed file holds every frame."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import h5py
import numpy as np

from h5swmr import FilterPipeline, SwmrFileReader, SwmrFileWriter

FRAMES = 500


def _frame(i: int) -> np.ndarray:
    return np.full((32, 32), i % 65536, "u2")


def test_producer_flusher_and_status_threads(tmp_path: Path) -> None:
    path = tmp_path / "threads.h5"
    errors: list[BaseException] = []
    done = threading.Event()
    writer = SwmrFileWriter.create(path, nexus=True)
    plain = writer.create_streaming_dataset("data", "u2", (32, 32))
    packed = writer.create_streaming_dataset_chunked_compressed(
        "/entry/packed", "u2", (32, 32), (4, 32, 32), FilterPipeline.shuffle_deflate(1)
    )
    stamps = writer.create_streaming_dataset("/entry/stamp", "f8", ())
    writer.start_swmr()

    def guarded(work: object) -> threading.Thread:
        def run() -> None:
            try:
                work()  # type: ignore[operator]
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
                done.set()

        return threading.Thread(target=run, daemon=True)

    def produce() -> None:
        for i in range(FRAMES):
            writer.append_frame(plain, _frame(i), metadata={stamps: float(i)})
            writer.append_frame(packed, _frame(i))
        done.set()

    def flush() -> None:
        while not done.is_set():
            writer.flush()
            time.sleep(0.0005)

    published: list[int] = []

    def status() -> None:
        while not done.is_set():
            stats = writer.stats()
            published.append(stats.frames_published[writer.dataset_names[plain]])
            time.sleep(0.001)

    def read() -> None:
        name = writer.dataset_names[plain]
        with SwmrFileReader.open(path) as reader:
            seen = 0
            while not done.is_set() or seen < FRAMES:
                reader.refresh()
                n = reader.shape(name)[0]
                for i in range(seen, n):
                    frame = reader.read_frame(name, i)
                    assert (frame == i % 65536).all(), f"frame {i} reads {frame[0, :4]}"
                    stamp = reader.read_frame("/entry/stamp", i)
                    assert stamp == float(i), f"stamp {i} reads {stamp}"
                seen = n
                time.sleep(0.0005)

    threads = [guarded(f) for f in (produce, flush, status, read)]
    for thread in threads[:3]:
        thread.start()
    threads[3].start()
    threads[0].join(timeout=120)
    done.set()
    for thread in threads[1:3]:
        thread.join(timeout=30)
    writer.flush()  # the last frames, for the reader still catching up
    threads[3].join(timeout=60)
    writer.close()
    assert not errors, errors
    assert all(not t.is_alive() for t in threads)
    assert published == sorted(published)  # what readers may see only grows
    with h5py.File(path, "r") as f:
        data = f["/entry/instrument/detector/data"][...]
        assert data.shape == (FRAMES, 32, 32)
        assert (data[:, 0, 0] == np.arange(FRAMES) % 65536).all()
        assert (data == data[:, :1, :1]).all()
        np.testing.assert_array_equal(f["/entry/packed"][...], data)
        np.testing.assert_array_equal(f["/entry/stamp"][...], np.arange(FRAMES, dtype="f8"))
        assert f["/entry/instrument/detector/data"].len() == FRAMES
