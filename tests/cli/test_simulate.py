"""``h5swmr simulate``: argument handling, and the file it writes as libhdf5 reads it.

Tests marked ``writer`` in their name need ``h5swmr.SwmrFileWriter`` (and the filter registry);
the parsing and usage-error tests need neither.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import h5swmr.cli
from h5swmr.cli.detector import SyntheticDetector, frame_marker
from h5swmr.cli.main import main
from h5swmr.cli.simulate import parse_dims
from tests.cli.conftest import run_h5swmr
from tests.oracle import OLD_H5PY_VERSIONS, array_sha256, describe_with, follow_dataset, h5dump_data

SRC = Path(h5swmr.cli.__file__).resolve().parents[2]
DEFAULT_DATASET = "/entry/data/data"


def _expected_frames(
    n_frames: int, frame_dims: tuple[int, ...], dtype: str, seed: int = 0
) -> np.ndarray[Any, Any]:
    """What ``simulate`` writes: the seeded detector's frames, each marked with its index."""
    detector = SyntheticDetector(frame_dims, np.dtype(dtype), seed)
    frames = np.empty((n_frames, *frame_dims), dtype=dtype)
    for index in range(n_frames):
        frames[index] = detector.frame(index)
    return frames


# ---- argument parsing: no writer needed -------------------------------------------------------


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=3))
def test_parse_dims_round_trips(dims: list[int]) -> None:
    assert parse_dims("x".join(map(str, dims))) == tuple(dims)
    assert parse_dims("X".join(map(str, dims))) == tuple(dims)


@pytest.mark.parametrize("text", ["", "x", "256x", "256xfoo", "0x5", "-1", "1x2x3x4", "2.5x2"])
def test_parse_dims_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_dims(text)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "required"),
        (["simulate"], "OUT.h5"),
        (["simulate", "x.h5", "--shape", "256xfoo"], "--shape"),
        (["simulate", "x.h5", "--shape", "0x4"], "positive"),
        (["simulate", "x.h5", "--tile", "1x2x3x4"], "--tile"),
        (["simulate", "x.h5", "--frames", "-1"], "--frames"),
        (["simulate", "x.h5", "--frames", "ten"], "--frames"),
        (["simulate", "x.h5", "--frames-per-chunk", "0"], "--frames-per-chunk"),
        (["simulate", "x.h5", "--flush-every", "0"], "--flush-every"),
        (["simulate", "x.h5", "--dtype", "complex64"], "--dtype"),
        (["simulate", "x.h5", "--shape", "4x4", "--tile", "2"], "rank"),
        (["simulate", "x.h5", "--no-such-option"], "unrecognized"),
        (["frobnicate"], "invalid choice"),
        (["simulate", "x.h5", "--rate", "-1"], "--rate"),
        (["simulate", "x.h5", "--rate", "fast"], "--rate"),
        (["simulate", "x.h5", "--rate", "inf"], "--rate"),
        # once argparse's "expected one argument": a value with a leading '-' reaches the check
        (["simulate", "x.h5", "--shape", "-3x10"], "argument --shape: '-3x10': sizes must be pos"),
        (["simulate", "x.h5", "--tile", "-2x2"], "argument --tile: '-2x2': sizes must be positive"),
        (["simulate", "x.h5", "--dataset", "-q"], "argument --dataset: expected one argument"),
        # whole numbers: one check (cli/command.parse_count) for every subcommand
        (["simulate", "x.h5", "--frames", "-1"], "argument --frames: '-1': must be at least 0"),
        (["bench", "--repeat", "0"], "argument --repeat: '0': must be at least 1"),
        (["receive", "tcp://127.0.0.1:1", "--series", "x"], "--series: 'x' is not an integer"),
    ],
)
def test_usage_errors_exit_2(
    arguments: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "usage: h5swmr" in err
    assert message in err
    assert not (tmp_path / "x.h5").exists()


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--frames", "--shape", "--dtype", "--frames-per-chunk", "--tile"):
        assert option in out
    for option in ("--compression", "--flush-every", "--dataset", "--debug", "--rate", "--quiet"):
        assert option in out
    assert "examples:\n" in out


# ---- the file written: needs the writer -------------------------------------------------------


def _simulate(out: Path, *options: str) -> str:
    """Run ``python -m h5swmr.cli.main simulate`` in a child; its stdout, or fail."""
    done = subprocess.run(
        [sys.executable, "-m", "h5swmr.cli.main", "simulate", str(out), *options],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=_child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def test_writer_default_run_prints_frames_rate_and_path(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_h5), "--frames", "5", "--shape", "16x8"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\b5 frames\b", out)
    assert re.search(r"[0-9.]+ MB/s", out)
    assert str(tmp_h5.resolve()) in out
    with h5py.File(tmp_h5, "r") as f:
        ds = f[DEFAULT_DATASET]
        assert ds.shape == (5, 16, 8)
        assert ds.maxshape == (None, 16, 8)
        assert ds.chunks == (1, 16, 8)
        assert ds.dtype == np.dtype("uint16")
        assert ds.compression is None
        np.testing.assert_array_equal(ds[()], _expected_frames(5, (16, 8), "uint16"))


@pytest.mark.parametrize(
    ("options", "shape", "chunks", "compression", "compression_opts", "shuffle"),
    [
        (["--frames", "10", "--frames-per-chunk", "4"], (10, 16, 8), (4, 16, 8), None, None, False),
        (["--frames", "6", "--tile", "8x4"], (6, 16, 8), (1, 8, 4), None, None, False),
        (
            ["--frames", "7", "--tile", "8x4", "--frames-per-chunk", "3"],
            (7, 16, 8),
            (3, 8, 4),
            None,
            None,
            False,
        ),
        (["--frames", "4", "--compression", "deflate:3"], (4, 16, 8), (1, 16, 8), "gzip", 3, False),
        (
            ["--frames", "9", "--compression", "shuffle-deflate:5", "--frames-per-chunk", "2"],
            (9, 16, 8),
            (2, 16, 8),
            "gzip",
            5,
            True,
        ),
        (
            ["--frames", "5", "--compression", "deflate:1", "--tile", "5x8"],
            (5, 16, 8),
            (1, 5, 8),
            "gzip",
            1,
            False,
        ),
        (["--frames", "0"], (0, 16, 8), (1, 16, 8), None, None, False),
    ],
)
def test_writer_variants(
    options: list[str],
    shape: tuple[int, ...],
    chunks: tuple[int, ...],
    compression: str | None,
    compression_opts: int | None,
    shuffle: bool,
    tmp_h5: Path,
) -> None:
    assert main(["simulate", str(tmp_h5), "--shape", "16x8", "--flush-every", "3", *options]) == 0
    with h5py.File(tmp_h5, "r") as f:
        ds = f[DEFAULT_DATASET]
        assert ds.shape == shape
        assert ds.maxshape == (None, *shape[1:])
        assert ds.chunks == chunks
        assert ds.compression == compression
        assert ds.compression_opts == compression_opts
        assert ds.shuffle is shuffle
        np.testing.assert_array_equal(ds[()], _expected_frames(shape[0], (16, 8), "uint16"))


@pytest.mark.parametrize(("spec", "block_size"), [("lz4", 262144), ("lz4:0", 0)])
def test_writer_lz4_block_size_in_cd_values(tmp_h5: Path, spec: str, block_size: int) -> None:
    """--compression lz4 stores 256 KiB blocks, lz4:0 hdf5plugin's one block per chunk; h5py
    (hdf5plugin) reads the block size from cd_values and the frames from the chunks."""
    import hdf5plugin  # noqa: F401 - registers the LZ4 filter with h5py

    options = ["--frames", "3", "--shape", "512x640", "--compression", spec]
    assert main(["simulate", str(tmp_h5), "-q", *options]) == 0
    with h5py.File(tmp_h5, "r") as f:
        ds = f[DEFAULT_DATASET]
        assert ds._filters["32004"] == (block_size,)
        np.testing.assert_array_equal(ds[()], _expected_frames(3, (512, 640), "uint16"))


@pytest.mark.parametrize(
    ("dtype", "frame_shape", "n_frames"),
    [("uint8", "300", 300), ("int32", "3x4x5", 6), ("float32", "64x64", 3), ("float64", "9", 2)],
)
def test_writer_dtypes_and_ranks_encode_the_index(
    dtype: str, frame_shape: str, n_frames: int, tmp_h5: Path
) -> None:
    dataset = "/frames"
    arguments = ["simulate", str(tmp_h5), "--dtype", dtype, "--shape", frame_shape]
    assert main([*arguments, "--frames", str(n_frames), "--dataset", dataset]) == 0
    frame_dims = parse_dims(frame_shape)
    with h5py.File(tmp_h5, "r") as f:
        ds = f[dataset]
        assert ds.dtype == np.dtype(dtype)
        assert ds.shape == (n_frames, *frame_dims)
        firsts = [ds[index].flat[0] for index in range(n_frames)]
    assert firsts == [frame_marker(index, np.dtype(dtype)) for index in range(n_frames)]


def test_writer_file_reads_in_hdf5_1_10_1_12_and_1_14(tmp_h5: Path) -> None:
    _simulate(tmp_h5, "--frames", "6", "--shape", "12x10", "--compression", "shuffle-deflate:4")
    expected = _expected_frames(6, (12, 10), "uint16")
    np.testing.assert_array_equal(
        h5dump_data(tmp_h5, DEFAULT_DATASET, "<u2", expected.shape), expected
    )
    for version in OLD_H5PY_VERSIONS:
        ds = describe_with(version, tmp_h5)["datasets"][DEFAULT_DATASET]
        assert ds["shape"] == expected.shape
        assert (ds["compression"], ds["compression_opts"], ds["shuffle"]) == ("gzip", 4, True)
        assert ds["sha256"] == array_sha256(expected)


def test_writer_frames_reach_a_swmr_reader_in_order(tmp_h5: Path) -> None:
    n_frames = 40
    with follow_dataset(tmp_h5, DEFAULT_DATASET, frames=n_frames, timeout=120) as reader:
        _simulate(tmp_h5, "--frames", str(n_frames), "--shape", "32x32")
        assert reader.wait(timeout=120) == 0, reader.reports[-3:]
    seen = [frame for r in reader.reports if r["event"] == "frames" for frame in r["frames"]]
    assert [frame["index"] for frame in seen] == list(range(n_frames))
    assert [frame["first"] for frame in seen] == list(range(n_frames))


def test_writer_bad_compression_exits_1_with_one_line(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_h5), "--compression", "lz9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr simulate: error:")
    assert "lz9" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_writer_unwritable_path_exits_1_traceback_only_with_debug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no" / "such" / "dir" / "x.h5"
    assert main(["simulate", str(out), "--frames", "1", "--shape", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr simulate: error:")
    assert "Traceback" not in err
    assert main(["--debug", "simulate", str(out), "--frames", "1", "--shape", "4"]) == 1
    assert "Traceback" in capsys.readouterr().err


# ---- pacing and progress ----------------------------------------------------------------------


def test_writer_rate_paces_the_appends(tmp_h5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    arguments = ["simulate", str(tmp_h5), "--frames", "11", "--shape", "4x4", "--rate", "50"]
    assert main(arguments) == 0
    assert time.monotonic() - started >= 0.2  # frame 10 is appended 10 / 50 s after frame 0
    out = capsys.readouterr().out
    assert re.search(r"\b11 frames\b", out)
    with h5py.File(tmp_h5, "r") as f:
        assert f[DEFAULT_DATASET].shape == (11, 4, 4)


def test_writer_progress_lines_when_stderr_is_not_a_terminal(tmp_h5: Path) -> None:
    started = time.monotonic()
    done = run_h5swmr("simulate", str(tmp_h5), "--frames", "30", "--rate", "20", "--shape", "8x8")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert 1 <= len(lines) <= elapsed + 1  # at most a line a second, however slow the machine
    for line in lines:
        assert re.fullmatch(r"simulate: \d+/30 frames, [0-9.]+ MB/s, ETA 0:\d\d", line), line
    assert "\r" not in done.stderr
    assert done.stdout.startswith("simulate: 30 frames of 8x8 uint16")
    assert done.stdout.count("\n") == 1


def test_writer_quiet_has_no_progress(tmp_h5: Path) -> None:
    done = run_h5swmr(
        "simulate", str(tmp_h5), "-q", "--frames", "25", "--rate", "20", "--shape", "8x8"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("simulate: 25 frames")


def test_nexus_layout_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "nexus.h5"
    assert main(["simulate", str(out), "--frames", "6", "--shape", "8x8", "--nexus", "-q"]) == 0
    with h5py.File(out, "r") as f:
        assert f["/entry/instrument/detector/data"].shape == (6, 8, 8)
        assert f["/entry/data"].attrs["signal"] == "data"
        assert f["/entry/live/keys/data"][()].tolist() == [1, 2, 3, 4, 5, 6]
        assert f["/entry/live/finished"][()].tolist() == [1]
        detector = f["/entry/instrument/detector"]  # NeXus fields are datasets, with units
        assert detector["x_pixel_size"][()] == 75e-6
        assert detector["x_pixel_size"].attrs["units"] == "m"
        assert detector["beam_center_x"][()] == 4.0
        assert detector["description"].asstr()[()] == "h5swmr simulated detector"
        assert f["/entry/title"].asstr()[()] == "h5swmr simulate: 6 frames of 8x8"
        assert f["/entry/start_time"].asstr()[()].endswith("+00:00")


def test_align_puts_chunks_on_stripe_boundaries(tmp_h5: Path) -> None:
    assert main(["simulate", str(tmp_h5), "--frames", "6", "--shape", "64x64", "--align",
                 "65536", "-q"]) == 0  # fmt: skip
    with h5py.File(tmp_h5, "r") as f:
        ds = f[DEFAULT_DATASET]
        offsets = [ds.id.get_chunk_info(i).byte_offset for i in range(ds.id.get_num_chunks())]
        assert len(offsets) == 6 and all(offset % 65536 == 0 for offset in offsets)
        np.testing.assert_array_equal(ds[()], _expected_frames(6, (64, 64), "uint16"))


def test_watchdog_warns_in_one_line_and_counts(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_h5), "--frames", "4", "--watchdog", "1e-9", "-q"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("h5swmr simulate: warning: ") for line in lines)
    assert sum("flush took" in line for line in lines) == 5  # a flush per frame, and the last
    assert re.search(r"\d+ commits \(slowest [\d.]+ ms, 9 over the watchdog\)", captured.out)


def test_summary_counts_commits_without_a_watchdog(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(tmp_h5), "--frames", "4", "--flush-every", "2", "-q"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"\b5 commits \(slowest [\d.]+ ms\) ->", captured.out)  # create, start,
    assert captured.err == ""  # two flushes and the last flush
