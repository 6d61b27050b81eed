"""DistributedWriter on a real LocalCluster of worker processes: actors write the parts, h5py
and as_dask_array follow the master while they write, a SIGKILLed worker loses no frame."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin  # noqa: F401  (bitshuffle for h5py)
import numpy as np
import pytest

from h5swmr import FilterPipeline
from h5swmr.errors import DistributedWriterError, InvalidArgumentError, InvalidStateError
from h5swmr.scaleout import write_fanout_master
from h5swmr.scaleout.dask import as_dask_array
from h5swmr.scaleout.distributed import (
    ROUND_ROBIN,
    STRIPES,
    DistributedWriter,
    stripe_bounds,
)
from tests.oracle import describe_with, h5dump_data

distributed = pytest.importorskip("distributed")

DIMS = (12, 10)
DATASET = "/entry/data/data"


def frame(i: int) -> np.ndarray:
    """Frame ``i``: every pixel differs, and so does every frame."""
    return (np.arange(DIMS[0] * DIMS[1], dtype="<u2").reshape(DIMS) * 7 + i).astype("<u2")


def frames(n: int) -> np.ndarray:
    return np.stack([frame(i) for i in range(n)])


def _cluster() -> Any:
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with _cluster() as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.parametrize("mode", [ROUND_ROBIN, STRIPES])
def test_frames_and_futures_followed_live(client: Any, tmp_path: Path, mode: str) -> None:
    writer = DistributedWriter(
        client, tmp_path, dtype="<u2", frame_dims=DIMS, mode=mode, flush_every=3
    )
    assert len({lane.worker for lane in writer._segments[0].lanes}) == 2  # one per worker
    with h5py.File(writer.master_path, "r", swmr=True) as f:  # readable before any frame
        seen = f[DATASET]
        assert seen.shape == (0, *DIMS)
        for i in range(40):
            # every third frame is a future computed on the cluster: its data stays there
            writer.append_frame(client.submit(frame, i) if i % 3 == 0 else frame(i))
            if i in (9, 26):
                writer.flush()
                seen.refresh()
                assert seen.shape == (i + 1, *DIMS)
                np.testing.assert_array_equal(seen[...], frames(i + 1))
    report = writer.close()
    assert report.frames == 40 and report.failures == () and report.lost == ()
    with h5py.File(report.master, "r") as f:  # the final master: plain open, exact counts
        np.testing.assert_array_equal(f[DATASET][...], frames(40))
        assert sorted(f["parts"]) == sorted(Path(p).stem for p in report.parts)
    for part in report.parts:  # every part closed: readable without SWMR
        with h5py.File(part, "r") as f:
            assert f[DATASET].shape[0] == (20 if mode == ROUND_ROBIN else 40)


@pytest.mark.parametrize("mode", [ROUND_ROBIN, STRIPES])
def test_first_master_is_the_fanout_master(client: Any, tmp_path: Path, mode: str) -> None:
    writer = DistributedWriter(client, tmp_path, dtype="<u2", frame_dims=DIMS, mode=mode)
    first = Path(writer.master_path).read_bytes()
    write_fanout_master(tmp_path / "same.h5", writer.part_paths, DATASET, "<u2", DIMS, mode=mode)
    assert first == (tmp_path / "same.h5").read_bytes()
    writer.close()


def test_dask_computation_while_the_master_grows(client: Any, tmp_path: Path) -> None:
    pipeline = FilterPipeline.bitshuffle_lz4()
    writer = DistributedWriter(
        client, tmp_path, dtype="<u2", frame_dims=DIMS, pipeline=pipeline, flush_every=2
    )
    for i in range(16):
        if i % 2:
            writer.append_frame(frame(i))
        else:  # a pre-compressed chunk, stored verbatim
            writer.append_frame(pipeline.encode(frame(i).tobytes(), 2)[0])
    writer.flush()
    growing = as_dask_array(writer.master_path, DATASET, frames_per_task=4)
    means = client.compute(growing.mean(axis=(1, 2))).result()
    np.testing.assert_allclose(means, frames(16).mean(axis=(1, 2)))
    for i in range(16, 30):
        writer.append_frame(frame(i))
    writer.flush()
    grown = as_dask_array(writer.master_path, DATASET)
    assert grown.shape == (30, *DIMS)
    np.testing.assert_array_equal(client.compute(grown).result(), frames(30))
    writer.close()
    with h5py.File(writer.master_path, "r") as f:
        assert f[DATASET][...].sum() == frames(30).sum()


def test_frames_in_flight_stay_bounded(client: Any, tmp_path: Path) -> None:
    writer = DistributedWriter(
        client, tmp_path, dtype="<u2", frame_dims=DIMS, flush_every=5, max_in_flight=4
    )
    held = []
    for i in range(60):
        writer.append_frame(frame(i))
        held.append(writer.frames_held)
    assert max(held) <= 4 + 5 + 4
    assert writer.close().frames == 60


@pytest.mark.parametrize("mode", [ROUND_ROBIN, STRIPES])
def test_sigkill_of_a_worker_loses_no_frame(tmp_path: Path, mode: str) -> None:
    with _cluster() as cluster, distributed.Client(cluster) as client:
        writer = DistributedWriter(
            client, tmp_path, dtype="<u2", frame_dims=DIMS, mode=mode, flush_every=5,
            max_in_flight=4,
        )  # fmt: skip
        for i in range(23):
            writer.append_frame(frame(i))
        victim = writer._segments[0].lanes[1]
        _, pid = victim.actor.where().result()
        os.kill(pid, signal.SIGKILL)
        for i in range(23, 61):
            writer.append_frame(frame(i))
        report = writer.close()
    assert len(report.failures) == 1
    failure = report.failures[0]
    assert failure.part == victim.spec.path and failure.lost == ()
    assert failure.frames_in_file >= 0 and len(failure.replayed) > 0
    assert report.lost == ()
    with h5py.File(report.master, "r") as f:  # parts of the lost writer were recovered
        np.testing.assert_array_equal(f[DATASET][...], frames(61))
    with h5py.File(victim.spec.path, "r") as f:
        assert f[DATASET].shape[0] == failure.frames_in_file
    assert len(report.parts) == 4  # two parts, the survivor's new part, the repair part
    described = describe_with("3.8.0", report.master, export=[DATASET])  # HDF5 1.12
    np.testing.assert_array_equal(described["arrays"][DATASET], frames(61))
    np.testing.assert_array_equal(
        h5dump_data(report.master, DATASET, "<u2", (61, *DIMS)), frames(61)
    )  # HDF5 1.10


def test_every_writer_lost_is_an_error(tmp_path: Path) -> None:
    with _cluster() as cluster, distributed.Client(cluster) as client:
        writer = DistributedWriter(
            client, tmp_path, dtype="<u2", frame_dims=DIMS, flush_every=2, max_in_flight=2
        )
        for i in range(8):
            writer.append_frame(frame(i))
        writer.flush()
        for lane in writer._segments[0].lanes:
            os.kill(lane.actor.where().result()[1], signal.SIGKILL)
        with pytest.raises(DistributedWriterError, match="every writer is lost"):
            for i in range(8, 40):
                writer.append_frame(frame(i))
        with pytest.raises(InvalidStateError):
            writer.append_frame(frame(0))
        report = writer.report()
    with h5py.File(report.master, "r") as f:  # the flushed frames are mapped
        np.testing.assert_array_equal(f[DATASET][:8], frames(8))


def test_bad_calls(client: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="mode"):
        DistributedWriter(client, tmp_path, dtype="<u2", frame_dims=DIMS, mode="random")
    with pytest.raises(InvalidArgumentError, match="workers"):
        DistributedWriter(client, tmp_path, dtype="<u2", frame_dims=DIMS, workers=["tcp://x:1"])
    writer = DistributedWriter(client, tmp_path, dtype="<u2", frame_dims=DIMS, mode=STRIPES)
    with pytest.raises(InvalidArgumentError, match="shape"):
        writer.append_frame(np.zeros((3, 3), "<u2"))
    with pytest.raises(InvalidArgumentError, match="stripes"):
        writer.append_frame(b"chunk")
    assert writer.close().frames == 0
    with pytest.raises(InvalidStateError, match="closed"):
        writer.flush()


def test_stripe_bounds() -> None:
    assert stripe_bounds(12, 2) == [(0, 6), (6, 12)]
    assert stripe_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    with pytest.raises(InvalidArgumentError):
        stripe_bounds(2, 3)


@pytest.mark.parametrize("master", ["master%.h5", "../master%.h5"])
def test_percent_signs_in_names(client: Any, tmp_path: Path, master: str) -> None:
    """A ``%`` in the directory or the part names reaches the master's VDS sources doubled
    (libhdf5 reads them as patterns) and its external links as it is (read literally); the
    parts are named bare beside the master, absolute from elsewhere."""
    directory = tmp_path / "run%b 100%"
    directory.mkdir()
    writer = DistributedWriter(
        client,
        directory,
        dtype="<u2",
        frame_dims=DIMS,
        dataset="/entry/50%",
        part_prefix="p%1%%",
        master=master,
    )
    for i in range(6):
        writer.append_frame(frame(i))
    report = writer.close()
    with h5py.File(report.master, "r") as f:
        np.testing.assert_array_equal(f["entry/50%"][...], frames(6))
        for w, part in enumerate(report.parts):
            np.testing.assert_array_equal(f[f"parts/{Path(part).stem}/entry/50%"], frames(6)[w::2])
