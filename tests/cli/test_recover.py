"""``h5swmr recover``: a writer killed with SIGKILL after a flush, a healthy file, a missing one."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.cli.main import main
from tests.cli.conftest import run_h5swmr, start_writer
from tests.cli.writer_child import DATASET, FRAME_DIMS


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
