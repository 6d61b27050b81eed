"""Bad calls raise one family of clear errors, change nothing, and leave a valid file."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import (
    DatasetNotFoundError,
    FilterPipeline,
    FrameDtypeError,
    FrameError,
    H5SwmrError,
    InvalidArgumentError,
    InvalidDtypeError,
    InvalidStateError,
    StorageError,
    SwmrFileWriter,
)

FRAME = np.arange(12, dtype="<u2").reshape(3, 4)


def _writer_with_frames(path: Path) -> tuple[SwmrFileWriter, int]:
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset("/entry/data", "u2", (3, 4))
    writer.start_swmr()
    writer.append_frame(ds, FRAME)
    writer.flush()
    return writer, ds


BAD_APPENDS: list[tuple[str, Callable[[int], tuple[object, object]], type[Exception], str]] = [
    ("short bytes", lambda ds: (ds, b"\x00" * 23), FrameError, "23 bytes, expected 24"),
    ("long bytes", lambda ds: (ds, bytes(25)), FrameError, "expected 24 (3x4 <u2)"),
    ("wrong shape", lambda ds: (ds, FRAME.reshape(4, 3)), FrameError, "shape (4, 3)"),
    ("wrong rank", lambda ds: (ds, FRAME[None]), FrameError, "expected (3, 4)"),
    ("wrong dtype", lambda ds: (ds, FRAME.astype("<i2")), FrameDtypeError, "<i2, expected <u2"),
    ("float frame", lambda ds: (ds, FRAME.astype("f4")), FrameDtypeError, "expected <u2"),
    ("a list", lambda ds: (ds, FRAME.tolist()), FrameDtypeError, "not list"),
    ("unknown index", lambda ds: (ds + 7, FRAME), DatasetNotFoundError, "no dataset number 7"),
    ("negative index", lambda ds: (-1, FRAME), DatasetNotFoundError, "no dataset number -1"),
    ("unknown name", lambda ds: ("/nope", FRAME), DatasetNotFoundError, "no dataset '/nope'"),
    ("group name", lambda ds: ("/entry", FRAME), DatasetNotFoundError, "no dataset '/entry'"),
    ("bad ref type", lambda ds: (1.0, FRAME), DatasetNotFoundError, "not float"),
]


@pytest.mark.parametrize(
    ("make_args", "error", "message"),
    [case[1:] for case in BAD_APPENDS],
    ids=[case[0] for case in BAD_APPENDS],
)
def test_bad_append_changes_nothing(
    tmp_h5: Path,
    make_args: Callable[[int], tuple[object, object]],
    error: type[Exception],
    message: str,
) -> None:
    writer, ds = _writer_with_frames(tmp_h5)
    with writer:
        target, data = make_args(ds)
        with pytest.raises(error) as raised:
            writer.append_frame(target, data)  # type: ignore[arg-type]
        assert isinstance(raised.value, H5SwmrError)
        assert message in str(raised.value)
        writer.append_frame(ds, FRAME + 1)
    with h5py.File(tmp_h5, "r") as f:
        assert (f["/entry/data"][()] == [FRAME, FRAME + 1]).all()


def test_errors_are_the_builtin_kinds_h5py_users_catch(tmp_h5: Path) -> None:
    writer, ds = _writer_with_frames(tmp_h5)
    with writer:
        with pytest.raises(ValueError, match="/entry/data"):
            writer.append_frame(ds, b"")
        with pytest.raises(TypeError, match="/entry/data"):
            writer.append_frame(ds, FRAME.astype("i8"))
        with pytest.raises(KeyError):
            writer.append_frame("/missing", FRAME)
        with pytest.raises(IndexError):
            writer.append_frame(3, FRAME)
        with pytest.raises(RuntimeError):
            writer.create_streaming_dataset("/late", "u2", (3, 4))


BAD_CREATES: list[tuple[str, dict[str, object], type[Exception]]] = [
    ("empty name", {"name": ""}, InvalidArgumentError),
    ("root name", {"name": "/"}, InvalidArgumentError),
    ("dot name", {"name": "/a/./b"}, InvalidArgumentError),
    ("existing name", {"name": "/entry/data"}, InvalidArgumentError),
    ("through a dataset", {"name": "/entry/data/x"}, InvalidArgumentError),
    ("name not str", {"name": 5}, InvalidArgumentError),
    ("unicode dtype", {"dtype": "U4"}, InvalidDtypeError),
    ("object dtype", {"dtype": object}, InvalidDtypeError),
    ("bytes of no length", {"dtype": "S0"}, InvalidDtypeError),
    ("record of text", {"dtype": [("a", "U1")]}, InvalidDtypeError),
    ("not a dtype", {"dtype": "nonsense"}, InvalidDtypeError),
    ("empty dims", {"frame_dims": ()}, InvalidArgumentError),
    ("zero dim", {"frame_dims": (0, 4)}, InvalidArgumentError),
    ("negative dim", {"frame_dims": (-3, 4)}, InvalidArgumentError),
    ("float dim", {"frame_dims": (2.5, 4)}, InvalidArgumentError),
    ("dims not a sequence", {"frame_dims": 7}, InvalidArgumentError),
    ("chunk rank", {"chunk": (1, 3)}, InvalidArgumentError),
    ("chunk zero", {"chunk": (0, 3, 4)}, InvalidArgumentError),
    ("tile too big", {"chunk": (1, 4, 4)}, InvalidArgumentError),
    ("chunk of 4 GiB", {"chunk": (2**30, 3, 4)}, InvalidArgumentError),
    ("pipeline not a pipeline", {"pipeline": "gzip"}, InvalidArgumentError),
]


@pytest.mark.parametrize(
    ("changes", "error"), [c[1:] for c in BAD_CREATES], ids=[c[0] for c in BAD_CREATES]
)
def test_bad_create_changes_nothing(
    tmp_h5: Path, changes: dict[str, object], error: type[Exception]
) -> None:
    args: dict[str, object] = {
        "name": "/entry/other",
        "dtype": "u2",
        "frame_dims": (3, 4),
        "chunk": (1, 3, 4),
    }
    args.update(changes)
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/entry/data", "u2", (3, 4))
        with pytest.raises(error):
            if "pipeline" in changes:
                writer.create_streaming_dataset_chunked_compressed(**args)  # type: ignore[arg-type]
            else:
                writer.create_streaming_dataset_chunked(**args)  # type: ignore[arg-type]
        writer.start_swmr()
        writer.append_frame(ds, FRAME)
    with h5py.File(tmp_h5, "r") as f:
        assert list(f["/entry"]) == ["data"]
        assert (f["/entry/data"][()] == [FRAME]).all()


def test_calls_in_the_wrong_state(tmp_h5: Path) -> None:
    writer, ds = _writer_with_frames(tmp_h5)
    with pytest.raises(InvalidStateError, match="already in SWMR mode"):
        writer.start_swmr()
    with pytest.raises(InvalidStateError, match="before start_swmr"):
        writer.create_streaming_dataset_compressed("/late", "u2", (3, 4), FilterPipeline.deflate(4))
    writer.close()
    writer.close()  # closing twice does nothing
    calls: tuple[Callable[[], object], ...] = (
        lambda: writer.append_frame(ds, FRAME),
        writer.flush,
        writer.start_swmr,
        lambda: writer.create_hard_link("/", "x", "/entry"),
    )
    for call in calls:
        with pytest.raises(InvalidStateError, match="closed"):
            call()
    with h5py.File(tmp_h5, "r") as f:
        assert (f["/entry/data"][()] == [FRAME]).all()


def test_unwritable_directory_is_an_os_error(tmp_path: Path) -> None:
    locked_dir = tmp_path / "ro"
    locked_dir.mkdir()
    locked_dir.chmod(0o500)
    try:
        # root may write anywhere but sysfs, which refuses new files with EACCES
        target = locked_dir if not os.access(locked_dir, os.W_OK) else Path("/sys")
        with pytest.raises(StorageError, match="cannot open") as raised:
            SwmrFileWriter.create(target / "x.h5")
        assert raised.value.errno == errno.EACCES
    finally:
        locked_dir.chmod(0o700)


def test_missing_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot open"):
        SwmrFileWriter.create(tmp_path / "no" / "such" / "dir.h5")


def test_exception_inside_with_still_closes_cleanly(tmp_h5: Path) -> None:
    with pytest.raises(ZeroDivisionError), SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/d", "i4", (2,))
        writer.start_swmr()
        writer.append_frame(ds, np.array([1, 2], "i4"))
        raise ZeroDivisionError
    with h5py.File(tmp_h5, "r") as f:
        assert f["/d"][()].tolist() == [[1, 2]]
