"""NeXus files (nexus=True), per-frame metadata in lockstep, keys and the finished flag."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from swmr_tools import KeyFollower

from h5swmr import InvalidArgumentError, SwmrFileWriter


def test_nexus_layout(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5, nexus=True) as writer:
        ds = writer.create_streaming_dataset("data", "u2", (4, 5))
        writer.create_streaming_dataset("/entry/sample/temperature", "f4", ())
        writer.start_swmr()
        writer.append_frame(ds, np.ones((4, 5), "u2"))
    with h5py.File(tmp_h5, "r") as f:
        classes = {
            "/entry": "NXentry",
            "/entry/instrument": "NXinstrument",
            "/entry/instrument/detector": "NXdetector",
            "/entry/data": "NXdata",
            "/entry/live": "NXcollection",
        }
        for path, nx_class in classes.items():
            assert f[path].attrs["NX_class"] == nx_class, path
        assert f["/entry/data"].attrs["signal"] == "data"
        start = f["/entry/start_time"]  # a NeXus field: a scalar UTF-8 string dataset
        assert start.shape == () and h5py.check_string_dtype(start.dtype).encoding == "utf-8"
        assert start.asstr()[()].startswith("20") and start.asstr()[()].endswith("+00:00")
        data = f["/entry/instrument/detector/data"]
        assert h5py.h5o.get_info(f["/entry/data/data"].id).addr == h5py.h5o.get_info(data.id).addr
        assert f["/entry/live/keys/data"][()].tolist() == [1]
        assert f["/entry/live/finished"][()].tolist() == [1]
        assert "temperature" in f["/entry/sample"]


def test_swmr_tools_follows_to_the_finished_flag(tmp_h5: Path) -> None:
    """swmr-tools' KeyFollower (the DLS way of following NeXus files) sees every frame and stops
    on the finished flag, not its timeout."""
    writer = SwmrFileWriter.create(tmp_h5, nexus=True)
    ds = writer.create_streaming_dataset("data", "u2", (4, 4))
    writer.start_swmr()
    writer.append_frame(ds, np.full((4, 4), 1, "u2"))  # KeyFollower 0.9 fails on empty keys
    writer.flush()

    def write() -> None:
        for i in range(1, 60):
            writer.append_frame(ds, np.full((4, 4), i + 1, "u2"))
            writer.flush()
            time.sleep(0.002)
        writer.close()

    thread = threading.Thread(target=write)
    with h5py.File(tmp_h5, "r", swmr=True) as f:
        thread.start()
        follower = KeyFollower(
            [f["/entry/live/keys/data"]], timeout=20, finished_dataset=f["/entry/live/finished"]
        )
        seen = []
        data = f["/entry/data/data"]
        for key in follower:
            data.refresh()
            assert data[key, 0, 0] == key + 1
            seen.append(key)
        assert seen == list(range(60))
        assert follower.finished_set  # it stopped on the flag (a timeout leaves it unset)
    thread.join(30)


def test_metadata_is_never_behind_its_frame(tmp_h5: Path) -> None:
    """A reader that looks at the frames, then at their metadata, always finds the metadata."""
    writer = SwmrFileWriter.create(tmp_h5)
    frames = writer.create_streaming_dataset("/frames", "u2", (8, 8))
    stamp = writer.create_streaming_dataset_chunked("/timestamp", "f8", (), (128,))
    writer.create_streaming_dataset("/frame_id", "i8", (1,))
    writer.start_swmr()
    done = threading.Event()
    looking = threading.Event()

    def write() -> None:
        looking.wait(10)  # the reader is checking before the first frame lands
        for i in range(400):
            writer.append_frame(
                frames,
                np.full((8, 8), i, "u2"),
                metadata={stamp: i * 0.5, "/frame_id": np.array([i], "i8")},
            )
            if i % 3 == 0:
                writer.flush()
                time.sleep(0.0002)  # room for the reader's checks between commits
        writer.close()
        done.set()

    thread = threading.Thread(target=write)
    checks = 0
    with h5py.File(tmp_h5, "r", swmr=True) as f:
        thread.start()
        while not done.is_set():
            f["/frames"].refresh()
            n = f["/frames"].shape[0]
            f["/timestamp"].refresh()
            f["/frame_id"].refresh()
            assert f["/timestamp"].shape[0] >= n and f["/frame_id"].shape[0] >= n
            checks += 1
            looking.set()
    thread.join(30)
    assert checks > 5
    with h5py.File(tmp_h5, "r") as f:
        np.testing.assert_array_equal(f["/timestamp"][()], np.arange(400) * 0.5)
        np.testing.assert_array_equal(f["/frame_id"][:, 0], np.arange(400))


def test_bad_metadata_changes_nothing(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5, nexus=True) as writer:
        ds = writer.create_streaming_dataset("data", "u1", (2,))
        stamp = writer.create_streaming_dataset("/entry/stamp", "f8", ())
        writer.start_swmr()
        with pytest.raises(TypeError):
            writer.append_frame(ds, b"\x01\x02", metadata={stamp: "not a number"})
        with pytest.raises(InvalidArgumentError, match="cannot be metadata"):
            writer.append_frame(ds, b"\x01\x02", metadata={"/entry/live/keys/data": 5})
        with pytest.raises(InvalidArgumentError, match="cannot be metadata"):
            writer.append_frame(ds, b"\x01\x02", metadata={ds: b"\x01\x02"})
        writer.append_frame(ds, b"\x03\x04", metadata={stamp: 1.5})
    with h5py.File(tmp_h5, "r") as f:
        assert f["/entry/data/data"][()].tolist() == [[3, 4]]
        assert f["/entry/stamp"][()].tolist() == [1.5]
        assert f["/entry/live/keys/data"][()].tolist() == [1]


def test_temp_suffix_and_directories(tmp_path: Path) -> None:
    final = tmp_path / "new" / "dirs" / "scan.h5"
    writer = SwmrFileWriter.create(final, temp_suffix=".part", create_dirs=True)
    ds = writer.create_streaming_dataset("d", "u1", (1,))
    writer.start_swmr()
    writer.append_frame(ds, b"\x07")
    writer.flush()
    assert not final.exists()
    with h5py.File(str(final) + ".part", "r", swmr=True) as f:
        assert f["d"][()].tolist() == [[7]]
    writer.close()
    assert final.exists() and not Path(str(final) + ".part").exists()
    with h5py.File(final, "r") as f:
        assert f["d"][()].tolist() == [[7]]


def test_reopened_nexus_files_go_on_with_keys_and_flag(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5, nexus=True) as writer:
        ds = writer.create_streaming_dataset("data", "u2", (3,))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(ds, np.full(3, i, "u2"))
    writer = SwmrFileWriter.open_append(tmp_h5)
    writer.start_swmr()
    with h5py.File(tmp_h5, "r", swmr=True) as f:
        assert f["/entry/live/finished"][()].tolist() == [0]  # being written again
        for i in range(3, 5):
            writer.append_frame("/entry/instrument/detector/data", np.full(3, i, "u2"))
        writer.flush()
        keys = f["/entry/live/keys/data"]
        keys.refresh()
        assert keys[()].tolist() == [1, 2, 3, 4, 5]
    writer.close()
    with h5py.File(tmp_h5, "r") as f:
        assert f["/entry/live/finished"][()].tolist() == [1]
        assert f["/entry/data/data"][:, 0].tolist() == [0, 1, 2, 3, 4]


def test_docs_fields_example_runs(tmp_h5: Path) -> None:
    """The code block of docs/nexus.md, run on a nexus=True writer, writes what it says."""
    doc = (Path(__file__).parents[2] / "docs" / "nexus.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", doc, re.S)
    with SwmrFileWriter.create(tmp_h5, nexus=True) as writer:
        ds = writer.create_streaming_dataset("data", "u2", (2, 2))
        mask = np.eye(2, dtype="u4")
        exec(compile(example, "docs/nexus.md", "exec"), {"writer": writer, "mask": mask, "ds": ds})
        writer.start_swmr()
    with h5py.File(tmp_h5, "r") as f:
        detector = f["/entry/instrument/detector"]
        assert detector["x_pixel_size"][()] == 75e-6
        assert detector["x_pixel_size"].attrs["units"] == "m"
        assert (detector["pixel_mask"][()] == mask).all()
        assert f["/entry/title"].asstr()[()] == "lysozyme, 100 K"
        assert detector["data"].fillvalue == 0


def test_own_start_time_replaces_the_creation_time(tmp_path: Path) -> None:
    own, default = tmp_path / "own.h5", tmp_path / "default.h5"
    with SwmrFileWriter.create(own, nexus=True) as writer:
        writer.write_string_dataset("/entry/start_time", "2026-12-03T08:00:00+01:00")
        writer.start_swmr()
    with SwmrFileWriter.create(default, nexus=True):
        pass  # closed without start_swmr: close writes the creation time
    with h5py.File(own, "r") as f:
        assert f["/entry/start_time"].asstr()[()] == "2026-12-03T08:00:00+01:00"
    with h5py.File(default, "r") as f:
        assert f["/entry/start_time"].asstr()[()].endswith("+00:00")
