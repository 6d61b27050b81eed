"""Issue #3, point 2: no length limit. One dataset of a million one-frame chunks, read live.

rust-hdf5 stops at 131,060 chunks; h5swmr must not stop anywhere. The writer process appends
1,000,000 two-element uint16 frames (one frame per chunk), flushing every 1,000. The HDF5 1.10
C reader follows the whole way and checks every frame; HDF5 2.x follows the first quarter. Once
every frame is flushed, with the writer still open in SWMR mode, all four readers (2.x, 1.14,
1.12, 1.10) check the size, the last frame and every 997th frame. After close, this
interpreter's h5py counts the chunks.
"""

from __future__ import annotations

import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.live import harness
from tests.live.harness import READERS, DatasetSpec, ReaderResult
from tests.live.py_reader import expected_values
from tests.oracle import LiveReader

FRAMES = 1_000_000
PER_FLUSH = 1_000
PARTIAL = 250_000
"""The HDF5 2.x follower stops after this many frames ("part of the way")."""
STRIDE = 997
TIMEOUT = 300.0
SPEC = DatasetSpec(
    "/entry/long", None, salt=4242, dtype="u2", bits=16, per_step=PER_FLUSH, frame_dims=(2,)
)
"""Each writer step appends PER_FLUSH frames, then flushes."""


def _problems(result: ReaderResult) -> list[dict[str, object]]:
    return [r for r in result.reports if r.get("event") in {"bad", "shrank", "error", "timeout"}]


@pytest.mark.slow
def test_million_chunks_followed_live_and_sampled_by_every_reader(tmp_path: Path) -> None:
    harness.prepare_readers()
    started = time.monotonic()
    path = tmp_path / "long.h5"
    go_file, close_file = tmp_path / "go", tmp_path / "close"
    writer = harness.start_writer(
        path,
        [SPEC],
        steps=FRAMES // PER_FLUSH,
        flush_pattern=[1],
        sleep=0.0,
        go_file=go_file,
        close_file=close_file,
        wait_timeout=TIMEOUT,
    )
    processes: dict[str, LiveReader] = {}
    samplers: dict[str, LiveReader] = {}
    try:
        writer.wait_for(lambda r: r.get("event") in {"swmr", "error"}, TIMEOUT)
        processes["hdf5-1.10"] = harness.start_reader(
            "hdf5-1.10", path, {SPEC: FRAMES}, mode="follow", timeout=TIMEOUT, poll_ms=20
        )
        processes["hdf5-2.x"] = harness.start_reader(
            "hdf5-2.x", path, {SPEC: PARTIAL}, mode="follow", timeout=TIMEOUT, poll_ms=20
        )
        for process in processes.values():
            process.wait_for(lambda r: r.get("event") in {"opened", "error"}, TIMEOUT)
        go_file.touch()
        all_flushed = writer.wait_for(lambda r: r.get("event") in {"all_flushed", "error"}, TIMEOUT)
        assert all_flushed["event"] == "all_flushed", writer.stderr[-4000:]
        write_seconds = all_flushed["t"]
        for reader in READERS:
            samplers[reader] = harness.start_reader(
                reader, path, {SPEC: FRAMES}, mode="sample", timeout=TIMEOUT, stride=STRIDE
            )
        sampled = {r: harness.collect(r, p, TIMEOUT) for r, p in samplers.items()}
        followed = {r: harness.collect(r, p, TIMEOUT) for r, p in processes.items()}
        close_file.touch()
        assert writer.wait(TIMEOUT) == 0, writer.stderr[-4000:]
    finally:
        for process in [*processes.values(), *samplers.values()]:
            process.close()
        writer.close()
    flushed = harness.flushed_counts(writer.reports)[SPEC.name]
    assert flushed == set(range(PER_FLUSH, FRAMES + 1, PER_FLUSH))
    targets, flushes = {SPEC.name: FRAMES}, {SPEC.name: flushed}

    sample_count = len(range(0, FRAMES, STRIDE)) + 1
    for result in sampled.values():
        harness.check_reader(result, targets, flushes, mode="sample", checked_every_frame=False)
        assert result.done is not None
        assert result.done["checked"] == {SPEC.name: sample_count}, result.summary()

    whole = followed["hdf5-1.10"]
    harness.check_reader(whole, targets, flushes, mode="follow", checked_every_frame=True)
    partial = followed["hdf5-2.x"]
    assert not _problems(partial) and partial.returncode == 0, partial.summary()
    assert partial.opened is not None and partial.opened["hdf5"].startswith("2."), partial.summary()
    sizes = partial.sizes[SPEC.name]
    assert sizes == sorted(sizes) and set(sizes) - {0} <= flushed, sizes
    assert partial.done is not None and PARTIAL <= sizes[-1] <= FRAMES, partial.summary()
    assert partial.done["checked"] == {SPEC.name: sizes[-1]}, partial.summary()
    # Growth seen live, at three sizes at least: each follower checks every frame of a new size
    # before it polls again, so the faster the writer (1M frames in ~5 s), the fewer sizes.
    for result in followed.values():
        seen = harness.intermediate_sizes(result, SPEC.name, FRAMES)
        assert len(seen) >= 3, f"{result.reader} followed only {seen}"

    with h5py.File(path, "r") as f:
        dataset = f[SPEC.name]
        assert dataset.shape == (FRAMES, 2)
        assert dataset.chunks == (1, 2)
        assert dataset.id.get_num_chunks() == FRAMES
        last = dataset[FRAMES - 1 :].astype(np.uint64)
        assert np.array_equal(last, expected_values(FRAMES - 1, 1, 2, SPEC.bits, SPEC.salt))

    total = time.monotonic() - started
    print(
        f"\n{FRAMES} frames written and flushed in {write_seconds:.1f} s; total {total:.1f} s; "
        + "; ".join(
            f"{r}: {len(harness.intermediate_sizes(res, SPEC.name, FRAMES))} live sizes, "
            f"checked {res.done['checked'][SPEC.name] if res.done else '?'} frames"
            for r, res in followed.items()
        )
    )
