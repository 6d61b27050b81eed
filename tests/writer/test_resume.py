"""open_append (writer/resume.py): a closed or recovered file takes more frames; readers see
one stream."""

from __future__ import annotations

import dataclasses
import itertools
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import (
    DatasetNotFoundError,
    FileLockedError,
    FileLocking,
    FilterPipeline,
    SwmrFileWriter,
    UnsupportedError,
    recover,
)
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.datatype import DatatypeMessage, StringPadding, StringType
from h5swmr.format.object_header import ObjectHeader
from tests.oracle import OLD_H5PY_VERSIONS, array_sha256, describe_with, h5dump_header
from tests.writer.conftest import FRAME_DIMS, VARIANTS, random_frames, same_bits

SESSIONS = (0, 1, 5, 6, 40, 41, 97, 100)


def test_sessions_make_one_stream(tmp_h5: Path) -> None:
    data = {
        v.name: random_frames("i2", (100, *FRAME_DIMS[2]), seed=i) for i, v in enumerate(VARIANTS)
    }
    writer = SwmrFileWriter.create(tmp_h5)
    for v in VARIANTS:
        v.create(writer, f"/entry/{v.name}", "i2", 2)
    writer.create_hard_link("/", "alias", "/entry/chunked_compressed")
    for start, stop in itertools.pairwise(SESSIONS):
        if start:
            writer = SwmrFileWriter.open_append(tmp_h5)
            assert writer.frame_count("/entry/plain") == start
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for i in range(start, stop):
                for v in VARIANTS:
                    writer.append_frame(f"/entry/{v.name}", data[v.name][i])
            writer.flush()
            for v in VARIANTS:
                ds = f[f"/entry/{v.name}"]
                ds.refresh()
                assert same_bits(ds[()], data[v.name][:stop]), (v.name, start, stop)
        writer.close()
    with h5py.File(tmp_h5, "r") as f:
        for v in VARIANTS:
            assert same_bits(f[f"/entry/{v.name}"][()], data[v.name])
        assert h5py.h5o.get_info(f["/alias"].id).rc == 2
    for version in OLD_H5PY_VERSIONS:
        described = describe_with(version, tmp_h5)
        for v in VARIANTS:
            assert described["datasets"][f"/entry/{v.name}"]["sha256"] == array_sha256(data[v.name])


def test_a_reader_follows_across_sessions_without_locks(tmp_h5: Path) -> None:
    """With locking off, a SWMR reader opened in the first session follows the later ones."""
    frames = random_frames("f4", (30, 5), seed=9)
    writer = SwmrFileWriter.create_with_locking(tmp_h5, FileLocking.DISABLED)
    ds = writer.create_streaming_dataset_chunked("/d", "f4", (5,), (4, 5))
    writer.start_swmr()
    with h5py.File(tmp_h5, "r", swmr=True, locking=False) as f:
        for session in range(3):
            if session:
                writer = SwmrFileWriter.open_append_with_locking(tmp_h5, FileLocking.DISABLED)
                writer.start_swmr()
            for i in range(session * 10, session * 10 + 10):
                writer.append_frame(ds, frames[i])
                writer.flush()
                f["/d"].refresh()
                assert same_bits(f["/d"][()], frames[: i + 1])
            writer.close()


def test_resume_after_a_crash_and_recover(tmp_h5: Path) -> None:
    script = f"""
import numpy as np, os, signal
from h5swmr import SwmrFileWriter, FilterPipeline
w = SwmrFileWriter.create({str(tmp_h5)!r})
pipeline = FilterPipeline.deflate(1)
a = w.create_streaming_dataset_chunked_compressed("/a", "u2", (8,), (3, 8), pipeline)
b = w.create_streaming_dataset_chunked("/b", "u2", (8,), (3, 8))
w.start_swmr()
for i in range(7):
    w.append_frame(a, np.full(8, i + 1, "u2"))
    w.append_frame(b, np.full(8, i + 1, "u2"))
    if i in (3, 4):
        w.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL
    with pytest.raises(FileLockedError, match="recover"):
        SwmrFileWriter.open_append(tmp_h5)
    report = recover(tmp_h5)
    assert report.datasets == {"/a": (5, 8), "/b": (5, 8)}
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        writer.start_swmr()
        for i in range(5, 9):
            writer.append_frame("/a", np.full(8, i + 1, "u2"))
            writer.append_frame("/b", np.full(8, i + 1, "u2"))
    expected = np.repeat(np.arange(1, 10, dtype="u2")[:, None], 8, axis=1)
    with h5py.File(tmp_h5, "r") as f:
        assert (f["/a"][()] == expected).all()
        assert (f["/b"][()] == expected).all()


def test_objects_h5swmr_did_not_write_are_kept(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/stream", "u1", (2,))
    with h5py.File(tmp_h5, "r+", libver="latest") as f:  # libhdf5 adds what it likes
        f["/fixed"] = np.arange(6)
        f["/stream"].attrs["units"] = "counts"
        f["/soft"] = h5py.SoftLink("/fixed")
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        assert writer.dataset_names == ["/stream"]
        with pytest.raises(DatasetNotFoundError):
            writer.append_frame("/fixed", np.arange(6))
        writer.create_streaming_dataset("/new/data", "u1", (2,))
        writer.create_hard_link("/new", "fixed", "/fixed")
        writer.start_swmr()
        writer.append_frame("/stream", b"\x01\x02")
        writer.append_frame("/new/data", b"\x03\x04")
    with h5py.File(tmp_h5, "r") as f:
        assert f["/stream"][()].tolist() == [[1, 2]]
        assert f["/new/data"][()].tolist() == [[3, 4]]
        assert f["/soft"][()].tolist() == list(range(6))
        assert f["/new/fixed"][()].tolist() == list(range(6))
        assert f["/stream"].attrs["units"] == "counts"
        assert h5py.h5o.get_info(f["/fixed"].id).rc == 2  # its header counts the new link


def test_default_format_files_are_refused(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w") as f:
        f.create_group("g")
    with pytest.raises(UnsupportedError, match="default"):
        SwmrFileWriter.open_append(tmp_h5)
    with h5py.File(tmp_h5, "r") as f:
        assert list(f) == ["g"]


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot open"):
        SwmrFileWriter.open_append(tmp_path / "absent.h5")
    assert not (tmp_path / "absent.h5").exists()


def _metadata_file(path: Path) -> None:
    """Datasets written whole by h5swmr (compact, contiguous, compressed, text, with and without
    attributes), one written by libhdf5, and a stream."""
    with SwmrFileWriter.create(path, nexus=True) as writer:
        ds = writer.create_streaming_dataset("data", "<u2", (2,))
        writer.write_dataset("distance", 0.125)
        writer.write_dataset("pixel_mask", np.arange(4096, dtype="<u4").reshape(64, 64))
        writer.write_dataset("flat", np.ones((8, 8)), pipeline=FilterPipeline.deflate(4))
        writer.write_string_dataset("/entry/title", "first")
        writer.set_attribute("/entry/title", "note", "old")
        writer.start_swmr()
        writer.append_frame(ds, np.zeros(2, "<u2"))
    with h5py.File(path, "r+", libver="latest") as f:
        f.create_dataset("/entry/by_h5py", data=np.arange(3))
        f["/entry/by_h5py"].attrs["long_name"] = "kept"


def test_attributes_added_to_resumed_metadata_datasets(tmp_h5: Path) -> None:
    """A NeXus writer that resumes adds ``units`` to the datasets it wrote whole before: each
    such header is written anew at a fresh address with its parents (the old one stays intact
    for a reader that has it open), so SWMR readers never see a header change under them."""
    _metadata_file(tmp_h5)
    detector = "/entry/instrument/detector"
    writer = SwmrFileWriter.open_append(tmp_h5)
    writer.set_attribute(f"{detector}/distance", "units", "m")  # seen from start_swmr on
    writer.set_attribute("/entry/title", "note", "new")  # its own attribute: replaced
    writer.set_attribute("/entry/by_h5py", "units", "counts")
    writer.create_hard_link("/entry", "mask", f"{detector}/pixel_mask")
    writer.start_swmr()
    with h5py.File(tmp_h5, "r", swmr=True) as live:
        assert live[f"{detector}/distance"].attrs["units"] == "m"
        mask = live[f"{detector}/pixel_mask"]  # open while close writes its header anew
        writer.set_attribute(f"{detector}/pixel_mask", "units", "bits")
        writer.set_attribute(f"{detector}/flat", "units", "counts")
        writer.append_frame(f"{detector}/data", np.ones(2, "<u2"))
        writer.close()
        assert mask[0, :3].tolist() == [0, 1, 2] and "units" not in mask.attrs
        assert live[f"{detector}/data"][()].tolist() == [[0, 0], [1, 1]]
    with h5py.File(tmp_h5, "r") as f:
        assert f[f"{detector}/distance"][()] == 0.125
        assert dict(f[f"{detector}/distance"].attrs) == {"units": "m"}
        assert f[f"{detector}/pixel_mask"][()].tolist() == np.arange(4096).reshape(64, 64).tolist()
        assert f[f"{detector}/pixel_mask"].attrs["units"] == "bits"
        assert h5py.h5o.get_info(f["/entry/mask"].id).rc == 2  # two hard links, counted
        assert f[f"{detector}/flat"][()].tolist() == np.ones((8, 8)).tolist()
        assert f[f"{detector}/flat"].compression == "gzip"
        assert f[f"{detector}/flat"].attrs["units"] == "counts"
        assert f["/entry/title"].asstr()[()] == "first"
        assert dict(f["/entry/title"].attrs) == {"note": "new"}
        assert dict(f["/entry/by_h5py"].attrs) == {"long_name": "kept", "units": "counts"}
        assert f["/entry/by_h5py"][()].tolist() == [0, 1, 2]
        assert f[f"{detector}/data"][()].tolist() == [[0, 0], [1, 1]]
    header = h5dump_header(tmp_h5)  # h5dump 1.10 reads every header, attributes included
    assert header.count('ATTRIBUTE "units"') == 4, header
    for version in OLD_H5PY_VERSIONS:  # HDF5 1.12 and 1.14 read the rewritten headers too
        described = describe_with(version, tmp_h5)["datasets"]
        for path in (f"{detector}/distance", f"{detector}/pixel_mask", "/entry/by_h5py"):
            assert "units" in described[path]["attrs"] and not described[path]["read_error"]


def test_attributes_on_a_header_h5swmr_cannot_rewrite_are_refused(tmp_h5: Path) -> None:
    """A header with fields h5swmr does not write (times, creation order) is kept as it is: a
    new attribute is refused, naming what and why, and the file stays as it was."""
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/stream", "u1", (2,))
    with h5py.File(tmp_h5, "r+", libver="latest") as f:
        f.create_dataset("/timed", data=np.arange(3), track_times=True)
    before = tmp_h5.read_bytes()
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        with pytest.raises(UnsupportedError, match=r"'/timed'.*modification times") as raised:
            writer.set_attribute("/timed", "units", "m")
        assert "attribute 'units'" in str(raised.value)
        with pytest.raises(UnsupportedError, match="takes no new link"):
            writer.create_hard_link("/", "again", "/timed")
    assert tmp_h5.read_bytes() == before


def test_string_metadata_resumes_after_a_crash(tmp_h5: Path) -> None:
    """A file name per frame (S16, chunks of three, deflated) survives SIGKILL; after recover
    the next session appends to it, and h5py reads every value."""
    script = f"""
import numpy as np, os, signal
from h5swmr import SwmrFileWriter, FilterPipeline
w = SwmrFileWriter.create({str(tmp_h5)!r})
image = w.create_streaming_dataset("/image", "u1", (2,))
name = w.create_streaming_dataset_chunked_compressed(
    "/name", "S16", (), (3,), FilterPipeline.deflate(1))
w.start_swmr()
for i in range(5):
    w.append_frame(image, np.full(2, i, "u1"), metadata={{name: f"f{{i}}.tif"}})
    if i == 3:
        w.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL
    assert recover(tmp_h5).datasets == {"/image": (4, 2), "/name": (4,)}
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        writer.start_swmr()
        for i in range(4, 7):
            writer.append_frame("/image", np.full(2, i, "u1"), metadata={"/name": f"g{i}.tif"})
    with h5py.File(tmp_h5, "r") as f:
        assert f["/name"].dtype == np.dtype("S16")
        assert f["/name"][()].tolist() == [b"f0.tif", b"f1.tif", b"f2.tif", b"f3.tif"] + [
            f"g{i}.tif".encode() for i in range(4, 7)
        ]


def test_nul_terminated_strings_are_kept_not_appended_to(tmp_h5: Path) -> None:
    """A NUL-terminated string dataset (libhdf5's C string, H5T_C_S1) would lose the last byte
    of a full value appended NUL-padded: open_append keeps it as it is. The dataset is one
    h5swmr wrote, its datatype turned NUL-terminated in place (header re-sealed)."""
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/padded", "S4", ())
        writer.create_streaming_dataset("/terminated", "S4", ())
    with h5py.File(tmp_h5, "r") as f:
        address = h5py.h5o.get_info(f["/terminated"].id).addr
    raw = tmp_h5.read_bytes()
    header = ObjectHeader.decode(raw[address:])
    terminated = DatatypeMessage(StringType(4, StringPadding.NULL_TERMINATED)).encode()
    messages = tuple(
        dataclasses.replace(m, body=terminated) if m.type == MessageType.DATATYPE else m
        for m in header.messages
    )
    encoded = dataclasses.replace(header, messages=messages).encode()
    assert len(encoded) == header.size
    tmp_h5.write_bytes(raw[:address] + encoded + raw[address + len(encoded) :])
    with h5py.File(tmp_h5, "r") as f:
        assert f["/terminated"].id.get_type().get_strpad() == h5py.h5t.STR_NULLTERM
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        assert writer.dataset_names == ["/padded"]
        writer.start_swmr()
        writer.append_frame("/padded", b"abcd")
    with h5py.File(tmp_h5, "r") as f:
        assert f["/padded"][()].tolist() == [b"abcd"]
        assert f["/terminated"].shape == (0,)
