"""Issue #3, point 1: a writer process appends, reader processes of four HDF5 versions follow.

For every streaming variant, and for one file of several datasets flushed together, an h5swmr
writer process appends paced frames and flushes at irregular intervals while four SWMR reader
processes (HDF5 2.x, 1.14, 1.12 through h5py; 1.10 through ``swmr_reader.c``) poll with
``refresh`` and check every frame they can see, bit for bit. Each run happens once; one test item
per (run, reader) judges what that reader saw.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np
import pytest

from tests.live import harness
from tests.live.harness import READERS, DatasetSpec, LiveRun
from tests.live.py_reader import expected_values
from tests.writer.conftest import VARIANTS

STEPS = 240
FLUSH_PATTERN = (1, 3, 2, 7, 4, 5, 1, 1, 6)
"""Steps between flushes, cycled: partial bands of chunked variants get flushed too."""
SLEEP = 0.005
"""Seconds the writer sleeps after each step, so the readers poll while it appends."""
MIN_INTERMEDIATE = 5
"""Each reader must have seen at least this many sizes strictly between 0 and the total."""

RUNS: dict[str, list[DatasetSpec]] = {
    **{v.name: [DatasetSpec("/entry/data", v.name, salt=1000 + k)] for k, v in enumerate(VARIANTS)},
    "several_datasets": [
        *(
            DatasetSpec(f"/entry/{v.name}", v.name, salt=2000 + k, per_step=1 + k % 2)
            for k, v in enumerate(VARIANTS)
        ),
        DatasetSpec("/line", None, salt=3000, dtype="u1", bits=8, per_step=3, frame_dims=(5,)),
    ],
    "aligned": [
        DatasetSpec(f"/aligned/{v.name}", v.name, salt=4000 + k) for k, v in enumerate(VARIANTS)
    ],
}
WRITER_OPTIONS: dict[str, dict[str, int]] = {
    "aligned": {"alignment_threshold": 64, "alignment_interval": 8192},
}
"""Writer options of a run: "aligned" puts every chunk of 64 bytes or more on 8 KiB bounds."""


@pytest.fixture(scope="session")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], LiveRun]:
    """Each run of ``RUNS`` done once (a run that raised is raised again, not repeated)."""
    cache: dict[str, LiveRun | BaseException] = {}

    def get(name: str) -> LiveRun:
        if name not in cache:
            try:
                cache[name] = harness.run_live(
                    tmp_path_factory.mktemp(f"live-{name}"),
                    RUNS[name],
                    steps=STEPS if name not in ("several_datasets", "aligned") else STEPS // 2,
                    flush_pattern=FLUSH_PATTERN,
                    sleep=SLEEP,
                    writer_options=WRITER_OPTIONS.get(name),
                )
            except Exception as exc:
                cache[name] = exc
        result = cache[name]
        if isinstance(result, BaseException):
            raise result
        return result

    return get


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("run_name", list(RUNS))
def test_reader_follows_writer(
    live_run: Callable[[str], LiveRun], run_name: str, reader: str
) -> None:
    run = live_run(run_name)
    result = run.readers[reader]
    flushed = run.flushed
    assert set(flushed) == set(run.targets)
    for name, target in run.targets.items():
        assert max(flushed[name]) == target
    harness.check_reader(result, run.targets, flushed, mode="follow", checked_every_frame=True)
    for name, target in run.targets.items():
        seen = harness.intermediate_sizes(result, name, target)
        assert len(seen) >= MIN_INTERMEDIATE, (
            f"{reader} saw only {seen} of {len(flushed[name])} flushed sizes of {name}: "
            "the writer did not run concurrently with the reader"
        )


def test_file_after_close(live_run: Callable[[str], LiveRun]) -> None:
    """The several-datasets file, closed, read whole by this interpreter's h5py (no SWMR)."""
    run = live_run("several_datasets")
    with h5py.File(run.path, "r") as f:
        for spec in RUNS["several_datasets"]:
            data = f[spec.name][()]
            total = run.targets[spec.name]
            frame_size = int(np.prod(data.shape[1:]))
            want = expected_values(0, total, frame_size, spec.bits, spec.salt)
            assert data.dtype == np.dtype(spec.dtype)
            assert np.array_equal(data.reshape(total, frame_size).astype(np.uint64), want)


def test_aligned_chunks_after_close(live_run: Callable[[str], LiveRun]) -> None:
    """The "aligned" run's chunks sit on 8 KiB boundaries, and the file reads whole."""
    run = live_run("aligned")
    with h5py.File(run.path, "r") as f:
        for spec in RUNS["aligned"]:
            ds = f[spec.name]
            chunks = [ds.id.get_chunk_info(i) for i in range(ds.id.get_num_chunks())]
            assert chunks
            assert all(c.byte_offset % 8192 == 0 for c in chunks if c.size >= 64), spec.name
            total = run.targets[spec.name]
            frame_size = int(np.prod(ds.shape[1:]))
            want = expected_values(0, total, frame_size, spec.bits, spec.salt)
            assert np.array_equal(ds[()].reshape(total, frame_size).astype(np.uint64), want)
