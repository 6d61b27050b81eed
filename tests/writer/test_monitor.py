"""stats() and the watchdog: counts that match what was written, timings that add up, and a
warning for calls slower than the watchdog allows."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from h5swmr import (
    FilterPipeline,
    InvalidArgumentError,
    SlowStorageWarning,
    SwmrFileWriter,
    WriterStats,
)


def test_stats_count_frames_commits_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "s.h5"
    with SwmrFileWriter.create(path, flush_every=3) as w:
        a = w.create_streaming_dataset("a", "u2", (4, 4))
        b = w.create_streaming_dataset_chunked_compressed(
            "g/b", "f4", (8,), (2, 8), FilterPipeline.deflate(1)
        )
        before = w.stats()
        w.start_swmr()
        for i in range(7):
            w.append_frame(a, np.full((4, 4), i, "u2"))
        w.append_frame(b, np.zeros(8, "f4"))
        stats = w.stats()
        assert isinstance(stats, WriterStats)
        assert stats.frames_appended == {"/a": 7, "/g/b": 1}
        assert stats.frames_published == {"/a": 6, "/g/b": 0}  # flush_every=3: after 3 and 6
        assert stats.commits == before.commits + 3  # start_swmr and two policy flushes
        w.flush()
        after = w.stats()
        assert after.frames_published == {"/a": 7, "/g/b": 1}
        assert after.commits == stats.commits + 1
        assert after.file_size >= 7 * 32 and after.file_size >= stats.file_size
        assert 0 < after.last_commit_seconds <= after.max_commit_seconds <= after.commit_seconds
        assert after.commit_seconds < after.elapsed_seconds
        assert after.megabytes_per_second == after.file_size / after.elapsed_seconds / 1e6
        assert after.slow_calls == 0
    assert path.stat().st_size <= after.file_size + 4096


def test_without_a_watchdog_nothing_warns(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with SwmrFileWriter.create(tmp_path / "quiet.h5") as w:
            ds = w.create_streaming_dataset("d", "u1", (64,))
            w.start_swmr()
            for _ in range(20):
                w.append_frame(ds, np.zeros(64, "u1"))
                w.flush()
            assert w.stats().slow_calls == 0


def test_a_call_slower_than_the_watchdog_warns_and_still_happens(tmp_path: Path) -> None:
    path = tmp_path / "slow.h5"
    with SwmrFileWriter.create(path, watchdog=1e-9) as w:  # every call is too slow for this
        ds = w.create_streaming_dataset("d", "u2", (256, 256))
        w.start_swmr()
        with pytest.warns(SlowStorageWarning, match=r"append_frame took [\d.e+-]+ ms") as caught:
            w.append_frame(ds, np.ones((256, 256), "u2"))
        assert caught[0].filename == __file__  # points at the caller's line
        with pytest.warns(SlowStorageWarning, match="flush took"):
            w.flush()
        with pytest.warns(SlowStorageWarning, match="append_chunk took"):
            w.append_chunk(ds, np.full((256, 256), 2, "u2").tobytes())
        assert w.frame_count(ds) == 2
        assert w.stats().slow_calls == 3
        with warnings.catch_warnings():
            warnings.simplefilter("error", SlowStorageWarning)
            with pytest.raises(SlowStorageWarning):  # a caller may make it an error
                w.flush()
        assert w.stats().frames_published == {"/d": 2}  # the flush itself was done


def test_a_generous_watchdog_stays_quiet(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with SwmrFileWriter.create(tmp_path / "ok.h5", watchdog=60) as w:
            ds = w.create_streaming_dataset("d", "u1", (8,))
            w.start_swmr()
            w.append_frame(ds, np.zeros(8, "u1"))
            w.flush()


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), True, "1"])
def test_watchdog_must_be_positive_seconds(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match="watchdog must be None or a number"):
        SwmrFileWriter.create(tmp_path / "x.h5", watchdog=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "x.h5").exists()
