"""``h5swmr recover``: a writer killed with SIGKILL after a flush, a healthy file, a missing one;
a writer still running (locking on: it holds the lock; off: the file changes) is refused, and
``ls`` tells a running writer from a gone one."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.cli.main import main
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from tests.cli.conftest import run_h5swmr, start_writer
from tests.cli.writer_child import DATASET, FRAME_DIMS
from tests.oracle.holders import h5py_swmr_reader


def test_crashed_file_is_recovered_keeping_every_flushed_frame(tmp_h5: Path) -> None:
    proc = start_writer(tmp_h5, 6, "crash")
    assert proc.wait(timeout=30) == -9  # SIGKILL, right after the flush
    with pytest.raises(OSError):  # the SWMR flags are still set: plain libhdf5 refuses
        h5py.File(tmp_h5, "r")
    done = run_h5swmr("recover", str(tmp_h5))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_h5}: cleared consistency flags 0x")
    assert f"  {DATASET}: 6 frames kept, shape (6, {FRAME_DIMS[0]}, {FRAME_DIMS[1]})" in lines
    assert done.stderr == ""
    with h5py.File(tmp_h5, "r") as f:
        data = f[DATASET][()]
    assert data.shape == (6, *FRAME_DIMS)
    for index in range(6):
        assert (data[index] == index).all()
    again = run_h5swmr("recover", str(tmp_h5))  # now a healthy file
    assert again.returncode == 0
    assert again.stdout == f"{tmp_h5}: closed cleanly, nothing to recover\n"


def test_healthy_file_is_left_as_it_is(tmp_h5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start_writer(tmp_h5, 3, "close").wait(timeout=30)
    before = tmp_h5.read_bytes()
    assert main(["recover", str(tmp_h5)]) == 0
    assert capsys.readouterr().out == f"{tmp_h5}: closed cleanly, nothing to recover\n"
    assert tmp_h5.read_bytes() == before
    with h5py.File(tmp_h5, "r") as f:
        np.testing.assert_array_equal(f[DATASET][:, 0, 0], [0, 1, 2])


def test_missing_file_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.h5"
    assert main(["recover", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr recover: error: ")
    assert str(missing) in err
    assert "No such file" in err
    assert err.count("\n") == 1
    assert not missing.exists()


def test_missing_file_with_debug_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recover", str(tmp_path / "none.h5"), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_usage_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recover"]) == 2
    assert "usage: h5swmr recover" in capsys.readouterr().err
    assert main(["recover", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "h5swmr recover scan.h5" in out


def test_file_a_live_writer_holds_is_refused(
    held_writer: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = held_writer
    before = path.read_bytes()
    assert main(["recover", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr recover: error: ")
    assert err.count("\n") == 1
    assert path.read_bytes() == before


def test_not_hdf5_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\0" * 4096)
    assert main(["recover", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr recover: error: ")
    assert "Traceback" not in err


@pytest.fixture(params=["locking on", "locking off"])
def locking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Writer children and this process see HDF5_USE_FILE_LOCKING unset, or FALSE."""
    if request.param == "locking off":
        monkeypatch.setenv("HDF5_USE_FILE_LOCKING", "FALSE")
    else:
        monkeypatch.delenv("HDF5_USE_FILE_LOCKING", raising=False)
    return str(request.param)


def _frames(path: Path) -> int:
    with h5py.File(path, "r", swmr=True) as f:
        return int(f[DATASET].shape[0])


def _flags(path: Path) -> ConsistencyFlags:
    with path.open("rb") as f:
        return Superblock.decode(f.read(Superblock.SIZE)).flags


def test_writer_still_writing_is_refused_and_goes_on(
    tmp_h5: Path, locking: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: recover once reported "37 frames kept" while the writer went on to 100.
    Now it refuses, seeing the writer's descriptor whether it took a lock or not, and never
    advises turning locking off; the writer keeps writing into a file recover did not touch."""
    proc = start_writer(tmp_h5, 5, "stream")
    try:
        assert main(["ls", str(tmp_h5)]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        # with locking on or off: the writer has the file open for writing
        assert (
            f"live: a writer is running (process {proc.pid} has the file open for writing)" in first
        )
        assert main(["recover", str(tmp_h5)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith(f"h5swmr recover: error: {str(tmp_h5)!r}: a writer is ")
        assert "--force" in err
        assert "HDF5_USE_FILE_LOCKING" not in err
        assert _flags(tmp_h5) != ConsistencyFlags.NONE
        seen = _frames(tmp_h5)
        deadline = time.monotonic() + 20
        while _frames(tmp_h5) <= seen + 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _frames(tmp_h5) > seen + 5  # the writer went on
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_sigkilled_writer_is_gone_for_ls_and_recovered(
    tmp_h5: Path, locking: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer killed mid-stream: ls says it is gone and how to recover; recover keeps every
    flushed frame."""
    proc = start_writer(tmp_h5, 5, "stream")
    deadline = time.monotonic() + 20
    while _frames(tmp_h5) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    proc.communicate(timeout=10)
    flushed = _frames(tmp_h5)
    assert main(["ls", str(tmp_h5)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{tmp_h5}: not closed: SWMR flags set, but its writer is gone")
    assert f"run: h5swmr recover {tmp_h5}" in first
    assert main(["recover", str(tmp_h5)]) == 0
    out = capsys.readouterr().out
    assert f"  {DATASET}: {flushed} frames kept" in out
    with h5py.File(tmp_h5, "r") as f:  # a plain reader opens it now
        data = f[DATASET][()]
    assert data.shape[0] == flushed
    assert [int(frame[0, 0]) for frame in data] == list(range(flushed))


def test_force_recovers_a_file_whose_writer_holds_the_lock(
    held_writer: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = held_writer
    assert main(["recover", str(path), "--force"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: cleared consistency flags 0x")
    assert _flags(path) == ConsistencyFlags.NONE


def test_text_file_is_not_an_hdf5_file_for_recover_and_ls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One wording for both commands (recover once said "superblock: 6 bytes, expected 48")."""
    text = tmp_path / "text.txt"
    text.write_text("hello\n")
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    for command, path, why in [
        ("recover", text, "no HDF5 signature at its start"),
        ("ls", text, "no HDF5 signature at byte 0, 512, 1024, ..."),
        ("recover", empty, "it is empty"),
        ("ls", empty, "it is empty"),
    ]:
        assert main([command, str(path)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"h5swmr {command}: error: {str(path)!r}: not an HDF5 file ({why})\n"
        )
    assert text.read_text() == "hello\n"


def test_a_libhdf5_reader_does_not_make_a_crashed_writer_look_running(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An h5py SWMR reader holds a shared lock: ls must still call the SIGKILLed writer gone."""
    proc = start_writer(tmp_h5, 5, "stream")
    deadline = time.monotonic() + 20
    while _frames(tmp_h5) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    with h5py_swmr_reader(tmp_h5):
        assert main(["ls", str(tmp_h5)]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert "its writer is gone" in first, first
