"""``h5swmr watch``: following writers in other processes, ending on close and on timeout."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from h5swmr import SwmrFileWriter
from h5swmr.cli.main import main
from h5swmr.cli.png import image_size
from h5swmr.cli.watch import choose_dataset, frame_stats
from tests.cli.conftest import h5swmr_process, start_writer
from tests.cli.test_png import parse_png

DATASET = "/entry/data/data"
REPORT = re.compile(
    r"^watch: (\d+) frames?(?:, ([0-9.]+) frames/s)?, latest #(\d+): "
    r"min (\S+) max (\S+) mean (\S+)$",
    re.MULTILINE,
)


def test_follows_a_writer_in_another_process_until_it_closes(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_h5.with_name("latest.png")
    writer = h5swmr_process(
        "simulate", str(tmp_h5), "--frames", "40", "--rate", "40", "--shape", "24x32", "-q"
    )
    try:
        code = main(["watch", str(tmp_h5), "--interval", "0.2", "--png", str(png)])
        _, err = writer.communicate(timeout=30)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert code == 0
    text = capsys.readouterr().out
    assert f"following {DATASET} (the only streaming dataset)" in text
    reports = REPORT.findall(text)
    assert len(reports) >= 3  # about 1 s of writing, a report every 0.2 s
    counts = [int(r[0]) for r in reports]
    assert counts == sorted(counts)
    assert counts[-1] == 40
    last = reports[-1]
    assert int(last[2]) == 39  # latest frame number
    assert float(last[4]) >= 39  # simulate marks the first element of frame i with i
    assert any(float(r[1]) > 5 for r in reports[1:-1])  # frames/s while the writer paced at 40
    assert text.rstrip().splitlines()[-1].startswith("watch: the writer closed the file; 40 frames")
    info, pixels = parse_png(png.read_bytes())
    # enlarged 8 times to 256 wide; title band, image, gap, colour bar, ticks and numbers
    assert (info["width"], info["height"]) == image_size((24, 32)) == (256, 13 + 192 + 2 + 19 + 16)
    assert pixels.shape == (242, 256, 3)
    assert info["text"][b"Title"].endswith(b"frame 39")


def test_stops_after_timeout_while_the_writer_holds_the_file(
    held_writer: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, proc = held_writer
    assert main(["watch", str(path), DATASET, "--timeout", "0.5", "--interval", "0.2"]) == 0
    assert proc.poll() is None  # the writer still has the file open
    text = capsys.readouterr().out
    assert f"following {DATASET} (as asked)" in text
    assert "file live" in text
    lines = text.rstrip().splitlines()
    assert REPORT.search(lines[1])
    assert lines[-1].startswith("watch: no new frame for 0.5 s")
    assert "5 frames in /entry/data/data, 0 new while watching" in lines[-1]


def test_closed_file_reports_once_and_says_no_writer(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start_writer(tmp_h5, 3, "close").wait(timeout=30)
    assert main(["watch", str(tmp_h5)]) == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert "file closed (no writer)" in lines[0]
    report = REPORT.match(lines[1])
    assert report is not None
    assert (report[1], report[3]) == ("3", "2")  # 3 frames, the latest is #2
    assert lines[-1].startswith("watch: no writer has the file; 3 frames")


def test_waits_for_the_file_to_appear(tmp_h5: Path) -> None:
    watcher = h5swmr_process("watch", str(tmp_h5), "--timeout", "20", "--interval", "0.2")
    try:
        assert watcher.stdout is not None
        # the writer starts once the watcher said it waits (a slow start-up is no race)
        first = watcher.stdout.readline()
        start_writer(tmp_h5, 4, "close").wait(timeout=30)
        rest, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert first == f"watch: waiting up to 20 s for {tmp_h5} to appear\n"
    out = first + rest
    assert "Errno" not in out and "No such file" not in out  # waiting is not an error
    assert "4 frames" in out.rstrip().splitlines()[-1]


def test_ctrl_c_exits_130(held_writer: tuple[Path, subprocess.Popen[str]]) -> None:
    path, _ = held_writer
    watcher = h5swmr_process("watch", str(path), "--timeout", "60")
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().startswith("watch: following")
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=20)
    finally:
        watcher.kill()
    assert watcher.returncode == 130
    assert err == "h5swmr watch: interrupted\n"


def test_missing_file_exits_1_after_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", str(tmp_path / "none.h5"), "--timeout", "0"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"h5swmr watch: error: {tmp_path / 'none.h5'}: No such file; it did not appear within 0 s\n"
    )


def test_missing_dataset_exits_1(
    held_writer: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = held_writer
    assert main(["watch", str(path), "/entry/nope", "--timeout", "0.2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"watch: waiting up to 0.2 s for /entry/nope to appear in {path}\n"
    assert captured.err.startswith("h5swmr watch: error:")
    assert "nope" in captured.err


def test_scalar_dataset_exits_1(tmp_h5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f["answer"] = 42
    assert main(["watch", str(tmp_h5), "answer", "--timeout", "0"]) == 1
    assert "scalar" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["watch"], "FILE"),
        (["watch", "x.h5", "--timeout", "-1"], "--timeout"),
        (["watch", "x.h5", "--interval", "0"], "--interval"),
        (["watch", "x.h5", "--interval", "soon"], "--interval"),
        (["watch", "x.h5", "a", "b"], "unrecognized"),
    ],
)
def test_usage_errors_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "usage: h5swmr" in err
    assert message in err


def _datasets(path: Path, specs: dict[str, tuple[tuple[int, ...], tuple[int | None, ...]]]) -> None:
    with h5py.File(path, "w", libver="latest") as f:
        for name, (shape, maxshape) in specs.items():
            f.create_dataset(name, shape=shape, maxshape=maxshape, dtype="u2", chunks=True)


@pytest.mark.parametrize(
    ("specs", "chosen", "why"),
    [
        (
            {"big": ((10, 100, 100), (10, 100, 100)), "s": ((2, 4, 4), (None, 4, 4))},
            "/s",
            "the only streaming dataset",
        ),
        (
            {"a": ((2, 4, 4), (None, 4, 4)), "b": ((3, 8, 8), (None, 8, 8))},
            "/b",
            "the largest of 2 streaming datasets",
        ),
        (
            {"a": ((2, 4, 4), (2, 4, 4)), "g/b": ((3, 8, 8), (3, 8, 8))},
            "/g/b",
            "the largest of 2 datasets; none is streaming",
        ),
        ({"a": ((2, 4), (2, 4))}, "/a", "the only dataset"),
    ],
)
def test_choose_dataset(
    specs: dict[str, tuple[tuple[int, ...], tuple[int | None, ...]]],
    chosen: str,
    why: str,
    tmp_h5: Path,
) -> None:
    _datasets(tmp_h5, specs)
    with h5swmr.File(tmp_h5) as f:
        assert choose_dataset(f) == (chosen, why)


def test_no_dataset_exits_1(tmp_h5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.create_group("empty")
    assert main(["watch", str(tmp_h5), "--timeout", "0"]) == 1
    assert "no dataset to watch" in capsys.readouterr().err


def test_frame_stats() -> None:
    stats = frame_stats(4, np.array([[1, 2], [3, 10]], dtype=np.uint16))
    assert stats is not None
    assert (stats.index, stats.minimum, stats.maximum, stats.mean) == (4, 1.0, 10.0, 4.0)
    assert stats.text() == "latest #4: min 1 max 10 mean 4"
    nan = frame_stats(0, np.array([np.nan, 1.0, 3.0]))
    assert nan is not None
    assert (nan.minimum, nan.maximum, nan.mean) == (1.0, 3.0, 2.0)
    assert frame_stats(0, np.zeros(3, dtype="S4")) is None


def test_first_report_has_no_rate_and_one_frame_is_singular(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first report came with "0.0 frames/s" before any rate was known, and "1 frames"."""
    start_writer(tmp_h5, 1, "close").wait(timeout=30)
    assert main(["watch", str(tmp_h5)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "watch: 1 frame, latest #0: min 0 max 0 mean 0"
    assert (
        lines[2]
        == "watch: no writer has the file; 1 frame in /entry/data/data, 0 new while watching"
    )


def test_not_hdf5_fails_at_once_and_says_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watch text.txt` printed its error twice, on stdout (as a wait) and on stderr."""
    text = tmp_path / "text.txt"
    text.write_text("hello\n")
    assert main(["watch", str(text), "--timeout", "30"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no "waiting up to 30 s" line: it did not wait
    assert captured.err == (
        f"h5swmr watch: error: {str(text)!r}: not an HDF5 file "
        "(no HDF5 signature at byte 0, 512, 1024, ...)\n"
    )


@pytest.mark.parametrize(
    ("png", "message"),
    [
        ("nodir/x.png", "--png {tmp}/nodir/x.png: directory {tmp}/nodir does not exist"),
        (".", "--png {tmp}: is a directory; give a file name such as latest.png"),
    ],
)
def test_png_path_is_checked_before_following(
    tmp_h5: Path, png: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once it failed only after following had begun, naming a temporary file."""
    start_writer(tmp_h5, 2, "close").wait(timeout=30)
    target = tmp_h5.parent / png if png != "." else tmp_h5.parent
    assert main(["watch", str(tmp_h5), "--png", str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"h5swmr watch: error: {message.format(tmp=tmp_h5.parent)}\n"
    assert ".tmp" not in captured.err


def test_png_unwritable_directory_names_the_users_path(tmp_h5: Path) -> None:
    """Should the directory go away while watching, the error names the image, not a temp file."""
    from h5swmr.cli.png import write_frame_png

    with pytest.raises(OSError, match="cannot write the image") as raised:
        write_frame_png(tmp_h5.parent / "gone" / "x.png", np.zeros((4, 4)), "t")
    assert raised.value.filename == str(tmp_h5.parent / "gone" / "x.png")


def test_a_string_dataset_is_followed_without_statistics_or_image(
    tmp_h5: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with h5swmr.SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/name", "S16", ())
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(ds, f"f{i}.tif")
    png = tmp_path / "latest.png"
    assert main(["watch", str(tmp_h5), "/name", "--png", str(png)]) == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert "(3,) |S16" in lines[0]
    assert lines[1] == "watch: 3 frames"
    assert not png.exists()


def test_a_dataset_of_records_is_watched_without_statistics(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("status", [("frame", "<u8"), ("t", "<f8")], (2,))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(
                ds, np.array([(i, 0.5), (i, 1.5)], [("frame", "<u8"), ("t", "<f8")])
            )
    png = tmp_h5.with_name("latest.png")
    assert main(["watch", str(tmp_h5), "status", "--png", str(png)]) == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[1] == "watch: 3 frames"  # no min/max/mean of records, and no image
    assert not png.exists()
