"""The writer's life cycle: flags on disk, the stored EOF, appends before start_swmr, options."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import Durability, FilterPipeline, InvalidArgumentError, SwmrFileWriter
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.writer.swmr_file_writer import EOF_RESERVE


def _superblock(path: Path) -> Superblock:
    with path.open("rb") as f:
        return Superblock.decode(f.read(Superblock.SIZE))


def test_flags_follow_libhdf5_through_the_life_cycle(tmp_h5: Path) -> None:
    writer = SwmrFileWriter.create(tmp_h5)
    assert _superblock(tmp_h5).flags == ConsistencyFlags.WRITE_ACCESS
    ds = writer.create_streaming_dataset("d", "u2", (2, 2))
    writer.start_swmr()
    assert _superblock(tmp_h5).flags == ConsistencyFlags.SWMR_WRITING
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(tmp_h5, "r", locking=False)  # plain readers wait for close, as with libhdf5
    writer.append_frame(ds, np.zeros((2, 2), "u2"))
    writer.close()
    assert _superblock(tmp_h5).flags == ConsistencyFlags.NONE
    assert _superblock(tmp_h5).eof_address == tmp_h5.stat().st_size


def test_stored_eof_never_exceeds_the_file(tmp_h5: Path) -> None:
    """A crashed file needs only its flags cleared: the stored EOF is always physically there."""
    with SwmrFileWriter.create(tmp_h5) as writer:
        a = writer.create_streaming_dataset_chunked("a", "u1", (5,), (7, 5))
        b = writer.create_streaming_dataset_tiled("b", "f8", (9, 9), (4, 4))
        writer.start_swmr()
        for i in range(50):
            writer.append_frame(a, bytes([i] * 5))
            writer.append_frame(b, np.full((9, 9), i, "f8"))
            if i % 3 == 0:
                writer.flush()
                assert _superblock(tmp_h5).eof_address <= tmp_h5.stat().st_size


def test_stored_eof_runs_ahead_and_moves_once_a_reserve(tmp_h5: Path) -> None:
    """Small frames do not rewrite the superblock at every flush: its EOF covers the next
    EOF_RESERVE bytes of appends, in the file already (sparse), and moves once they are used;
    close stores the exact end."""
    frame = np.zeros((64, 64), "u2")  # 8 KiB a chunk
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("d", "u2", (64, 64))
        writer.start_swmr()
        first = _superblock(tmp_h5).eof_address
        assert first >= EOF_RESERVE and tmp_h5.stat().st_size >= first
        eofs = []
        for _ in range(3 * EOF_RESERVE // frame.nbytes):
            writer.append_frame(ds, frame)
            writer.flush()
            eof = _superblock(tmp_h5).eof_address
            assert writer.stats().file_size <= eof <= tmp_h5.stat().st_size
            eofs.append(eof)
        assert 2 <= len(set(eofs)) <= 4  # moved twice or three times, not at every flush
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            assert f["d"].shape == (len(eofs), 64, 64)
    assert _superblock(tmp_h5).eof_address == tmp_h5.stat().st_size == writer.stats().file_size


def test_frames_appended_before_start_swmr(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/early", "i4", (3,))
        writer.append_frame(ds, np.array([1, 2, 3], "i4"))
        writer.flush()
        late = writer.create_streaming_dataset("/late/data", "i4", (3,))
        writer.append_frame(ds, np.array([4, 5, 6], "i4"))
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            assert f["/early"][()].tolist() == [[1, 2, 3], [4, 5, 6]]
            assert f["/late/data"].shape == (0, 3)
        writer.append_frame(late, np.array([7, 8, 9], "i4"))
    with h5py.File(tmp_h5, "r") as f:
        assert f["/late/data"][()].tolist() == [[7, 8, 9]]


def test_replaces_an_existing_file(tmp_h5: Path) -> None:
    tmp_h5.write_bytes(b"x" * 100_000)
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("d", "u1", (1,))
    assert tmp_h5.stat().st_size < 1000
    with h5py.File(tmp_h5, "r") as f:
        assert f["d"].shape == (0, 1)


@pytest.mark.parametrize("durability", ["none", "flush", "close", Durability.FLUSH])
@pytest.mark.parametrize("workers", [0, 1, 3])
def test_options(tmp_h5: Path, durability: str | Durability, workers: int) -> None:
    frames = np.random.default_rng(3).integers(0, 9, (20, 16, 16)).astype("u2")
    with SwmrFileWriter.create(tmp_h5, durability=durability, workers=workers) as writer:
        ds = writer.create_streaming_dataset_compressed(
            "d", "u2", (16, 16), FilterPipeline.deflate(6)
        )
        writer.start_swmr()
        for i, frame in enumerate(frames):
            writer.append_frame(ds, frame)
            if i % 6 == 0:
                writer.flush()
    with h5py.File(tmp_h5, "r") as f:
        assert (f["d"][()] == frames).all()


@pytest.mark.parametrize(
    "options", [{"durability": "sometimes"}, {"workers": -1}, {"workers": 1.5}]
)
def test_bad_options(tmp_h5: Path, options: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError):
        SwmrFileWriter.create(tmp_h5, **options)  # type: ignore[arg-type]


def test_introspection(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        a = writer.create_streaming_dataset("entry/a", "u1", (2,))
        b = writer.create_streaming_dataset("/entry/b", "u1", (2,))
        assert (a, b) == (0, 1)
        assert writer.dataset_names == ["/entry/a", "/entry/b"]
        assert writer.dataset_index("/entry/b") == 1
        writer.append_frame("entry/b", b"\x00\x01")
        assert writer.frame_count(b) == 1
        assert not writer.is_swmr
        writer.start_swmr()
        assert writer.is_swmr
        assert "swmr" in repr(writer)
    assert writer.closed
