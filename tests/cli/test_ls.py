"""``h5swmr ls``: a file h5py wrote (groups, links, attributes) and a live one a writer holds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.cli.ls import Entry, dataset_text, filters_text, value_text, walk
from h5swmr.cli.main import SIGPIPE_EXIT, main
from tests.cli.conftest import h5swmr_process, run_h5swmr, start_writer


@pytest.fixture
def nexus_like(tmp_h5: Path) -> Path:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        f.attrs["version"] = np.int32(3)
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = np.bytes_("NXentry")
        data = entry.create_dataset(
            "data/data",
            shape=(5, 16, 8),
            maxshape=(None, 16, 8),
            dtype="u2",
            chunks=(1, 16, 8),
            compression="gzip",
            shuffle=True,
        )
        data.attrs["axes"] = np.arange(20.0)
        entry["instrument/detector/data"] = data  # a second hard link
        entry["alias"] = h5py.SoftLink("/entry/data/data")
        entry["ext"] = h5py.ExternalLink("other.h5", "/data")
        f["plain"] = np.arange(10, dtype="<i4")
        f["named"] = 1.5
        f["named"].attrs["label"] = "text"  # a variable-length string, from the global heap
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((3,))
        h5py.h5d.create(f.id, b"tiny", h5py.h5t.STD_U8LE, space, dcpl=dcpl)
    return tmp_h5


def test_lists_groups_datasets_links_and_attributes(
    nexus_like: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ls", str(nexus_like)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{nexus_like}: closed (no writer)"
    by_path = {line.split()[0]: " ".join(line.split()[1:]) for line in lines[1:] if line[0] == "/"}
    assert by_path == {
        "/": "group",
        "/entry": "group",
        "/entry/alias": "soft link -> /entry/data/data",
        "/entry/data": "group",
        "/entry/data/data": "dataset (5, 16, 8) uint16, maxshape (None, 16, 8), chunks (1, 16, 8),"
        " filters shuffle, deflate(level=4)",
        "/entry/ext": "external link -> other.h5:/data",
        "/entry/instrument": "group",
        "/entry/instrument/detector": "group",
        "/entry/instrument/detector/data": "hard link -> /entry/data/data",
        "/named": "dataset () float64, contiguous",
        "/plain": "dataset (10,) int32, contiguous",
        "/tiny": "dataset (3,) uint8, compact",
    }
    assert lines[1].split() == ["/", "group"]
    assert lines[2] == "    @version = 3 int32"
    entry = next(i for i, line in enumerate(lines) if line.startswith("/entry "))
    assert lines[entry + 1] == "    @NX_class = 'NXentry'"
    assert "    @axes = [ 0., 1., 2., ..., 17., 18., 19.] float64" in lines
    assert not any("not shown" in line for line in lines)  # h5py's str attributes read too


def test_live_file_a_writer_holds(
    held_writer: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, proc = held_writer
    assert main(["ls", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert proc.poll() is None
    assert lines[0] == (
        f"{path}: live: a writer is running (process {proc.pid} has the file open for writing); "
        "shapes as of now"
    )
    assert lines[-1].split(None, 1) == [
        "/entry/data/data",
        "dataset (5, 8, 6) uint16, maxshape (None, 8, 6), chunks (1, 8, 6), ratio 1.00 (480 / 480 "
        "bytes)",
    ]


def test_closed_file_the_writer_wrote(tmp_h5: Path) -> None:
    start_writer(tmp_h5, 7, "close").wait(timeout=30)
    done = run_h5swmr("ls", str(tmp_h5))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith("closed (no writer)")
    assert "dataset (7, 8, 6) uint16" in done.stdout


def test_walk_lists_each_object_once(nexus_like: Path) -> None:
    with h5swmr.File(nexus_like) as f:
        entries = walk(f)
    objects = [e.path for e in entries if e.is_object]
    assert len(objects) == len(set(objects))
    assert Entry("/entry/instrument/detector/data", "hard link", "/entry/data/data") in entries


def test_filters_and_ratio_of_a_compressed_dataset(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset_compressed(
            "d", np.uint16, (8, 6), FilterPipeline.shuffle_deflate(4)
        )
        writer.start_swmr()
        for i in range(10):
            writer.append_frame(ds, np.full((8, 6), i, np.uint16))
    with h5py.File(tmp_h5, "r") as theirs:
        stored = theirs["d"].id.get_storage_size()  # libhdf5's count of the stored bytes
    with h5swmr.File(tmp_h5) as f:
        text = dataset_text(f["d"])
    ratio = f"ratio {960 / stored:.2f} (960 / {stored} bytes)"
    assert text.endswith(f", filters shuffle, deflate(level=4), {ratio}")


def test_filters_text() -> None:
    assert filters_text(FilterPipeline.deflate(6)) == "deflate(level=6)"
    assert filters_text(FilterPipeline.fletcher32_only()) == "fletcher32"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (np.bytes_(b"NXentry"), "'NXentry'"),
        (np.array(b"abc"), "'abc'"),
        (np.float32(1.5), "1.5 float32"),
        (np.arange(3, dtype=np.uint8), "[0, 1, 2] uint8"),
        (np.zeros((2, 2)), "[[0., 0.], [0., 0.]] float64"),
        ("x" * 100, "'" + "x" * 68 + "..."),
    ],
)
def test_value_text(value: object, text: str) -> None:
    assert value_text(value) == text


def test_missing_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", str(tmp_path / "none.h5")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr ls: error: ")
    assert "No such file" in err
    assert err.count("\n") == 1


def test_not_hdf5_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an HDF5 file" * 100)
    assert main(["ls", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5swmr ls: error: ")
    assert "Traceback" not in err


def test_closed_stdout_exits_141_quietly(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        for index in range(3000):  # more than a pipe buffer of output
            f.create_group(f"group{index:05d}")
    proc = h5swmr_process("ls", str(tmp_h5))
    assert proc.stdout is not None
    assert proc.stdout.readline().endswith("closed (no writer)\n")
    proc.stdout.close()
    assert proc.wait(timeout=30) == SIGPIPE_EXIT
    assert proc.stderr is not None
    assert proc.stderr.read() == ""


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls"]) == 2
    assert "usage: h5swmr ls" in capsys.readouterr().err


def test_virtual_datasets_show_their_sources(tmp_path: Path) -> None:
    layout = h5py.VirtualLayout(shape=(10, 3), dtype="f4")
    for i in range(5):
        with h5py.File(tmp_path / f"part{i}.h5", "w") as f:
            f["x"] = np.full((2, 3), i, "f4")
        layout[2 * i : 2 * i + 2] = h5py.VirtualSource(f"part{i}.h5", "x", shape=(2, 3))
    master = tmp_path / "master.h5"
    with h5py.File(master, "w", libver="latest") as f:
        f.create_virtual_dataset("vds", layout)
    with h5swmr.File(master) as f:
        text = dataset_text(f["/vds"])
    assert text == (
        "(10, 3) float32, virtual, 5 mappings from part0.h5, part1.h5, part2.h5, ... (5 files)"
    )
    done = run_h5swmr("ls", str(master))
    assert done.returncode == 0, done.stderr
    assert "virtual, 5 mappings" in done.stdout


def test_metadata_and_string_datasets(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.write_dataset("/entry/distance", 0.125)
        writer.write_string_dataset("/entry/title", "lysozyme")
    done = run_h5swmr("ls", str(tmp_h5))
    assert done.returncode == 0, done.stderr
    assert "/entry/distance" in done.stdout and "dataset () float64" in done.stdout
    assert "dataset () str (variable-length)" in done.stdout


def test_string_datasets_are_listed(tmp_h5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        name = writer.create_streaming_dataset("/name", "S16", ())
        grid = writer.create_streaming_dataset_compressed(
            "/grid", "S4", (2, 2), FilterPipeline.deflate()
        )
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(name, f"f{i}.tif")
            writer.append_frame(grid, np.full((2, 2), b"ab", "S4"))
    assert main(["ls", str(tmp_h5)]) == 0
    out = capsys.readouterr().out
    assert "/name dataset (3,) |S16, maxshape (None,), chunks (1,)" in out
    assert "/grid dataset (3, 2, 2) |S4" in out


def test_a_dataset_of_records_is_listed_with_its_fields(
    tmp_h5: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = np.dtype([("frame", "<u8"), ("t", "<f8"), ("xy", "<f4", (2,))])
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("status", status, ())
        writer.start_swmr()
        writer.append_frame(ds, (1, 0.5, (1.0, 2.0)))
    assert main(["ls", str(tmp_h5)]) == 0
    out = capsys.readouterr().out
    assert f"/status dataset (1,) {status}, maxshape (None,)" in out
