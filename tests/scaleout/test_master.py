"""Master files written by h5swmr, read by libhdf5 (h5py) bit for bit."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.global_heap import GlobalHeapCollection
from h5swmr.format.messages.virtual_layout import VirtualMappingList
from h5swmr.scaleout import (
    ExternalLink,
    GroupAttributes,
    HardLink,
    VirtualDataset,
    interleaved_mapping,
    printf_mapping,
    run_mapping,
    stripe_mapping,
    write_master,
)
from tests.format.test_virtual_layout import _virtual_layouts
from tests.oracle import describe_with, h5dump_header
from tests.oracle.h5dump import h5dump_text
from tests.scaleout.parts import FRAME, numbered_frames, write_part


def test_runs_and_external_links(tmp_path: Path) -> None:
    write_part(tmp_path / "a.h5", numbered_frames(0, 5))
    write_part(tmp_path / "b.h5", numbered_frames(5, 3))
    mappings = [
        run_mapping("a.h5", "/entry/data", FRAME, first_frame=0, n_frames=5),
        run_mapping("b.h5", "/entry/data", FRAME, first_frame=5, n_frames=3),
    ]
    master = tmp_path / "master.h5"
    write_master(
        master,
        [VirtualDataset.create("/entry/data", "<u2", (8, *FRAME), mappings, fillvalue=7)],
        [ExternalLink("parts/a", "a.h5"), ExternalLink("parts/b", "b.h5", "/entry/data")],
    )
    with h5py.File(master, "r") as f:
        data = f["entry/data"]
        assert data.is_virtual and data.shape == (8, *FRAME) and data.dtype == "<u2"
        assert data.fillvalue == 7
        np.testing.assert_array_equal(data[...], numbered_frames(0, 8))
        assert f["parts/a/entry/data"].shape == (5, *FRAME)
        assert f["parts/b"].shape == (3, *FRAME)
        sources = {(s.file_name, s.dset_name) for s in data.virtual_sources()}
        assert sources == {("a.h5", "/entry/data"), ("b.h5", "/entry/data")}


def test_read_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative source names are found beside the master, whatever the working directory."""
    write_part(tmp_path / "a.h5", numbered_frames(0, 2))
    write_master(
        tmp_path / "m.h5",
        [
            VirtualDataset.create(
                "d", "<u2", (2, *FRAME), [run_mapping("a.h5", "/entry/data", FRAME)]
            )
        ],
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        np.testing.assert_array_equal(f["d"][...], numbered_frames(0, 2))


def test_interleaved_growing_and_stripes(tmp_path: Path) -> None:
    k = 3
    for worker in range(k):
        write_part(tmp_path / f"w{worker}.h5", numbered_frames(0, 10)[worker::k])
    mappings = [
        interleaved_mapping(f"w{w}.h5", "/entry/data", FRAME, worker=w, n_workers=k)
        for w in range(k)
    ]
    write_master(tmp_path / "m.h5", [VirtualDataset.create("data", "<u2", (0, *FRAME), mappings)])
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f["data"].shape == (10, *FRAME)  # sized by libhdf5 from the growing sources
        np.testing.assert_array_equal(f["data"][...], numbered_frames(0, 10))
    # stripes: each worker writes rows 2w..2w+1 of every 6x4 frame
    full = numbered_frames(0, 4, (6, 4))
    for w in range(3):
        write_part(tmp_path / f"s{w}.h5", full[:, 2 * w : 2 * w + 2, :])
    stripes = [
        stripe_mapping(f"s{w}.h5", "/entry/data", (2, 4), offset=(2 * w, 0)) for w in range(3)
    ]
    write_master(tmp_path / "s.h5", [VirtualDataset.create("data", "<u2", (0, 6, 4), stripes)])
    with h5py.File(tmp_path / "s.h5", "r") as f:
        np.testing.assert_array_equal(f["data"][...], full)


def test_printf_parts(tmp_path: Path) -> None:
    for part in range(3):
        write_part(tmp_path / f"run_{part}.h5", numbered_frames(4 * part, 4 if part < 2 else 2))
    mapping = printf_mapping("run_%b.h5", "/entry/data", FRAME, 4)
    write_master(tmp_path / "m.h5", [VirtualDataset.create("data", "<u2", (0, *FRAME), [mapping])])
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f["data"].shape == (12, *FRAME)  # whole parts: the last 2 frames are fill
        np.testing.assert_array_equal(f["data"][:10], numbered_frames(0, 10))
        assert not f["data"][10:].any()


def test_same_mapping_bytes_as_libhdf5(tmp_path: Path) -> None:
    """h5py, given the same mappings, stores the same mapping list as h5swmr."""
    write_part(tmp_path / "a.h5", numbered_frames(0, 5))
    u = h5py.h5s.UNLIMITED
    layout = h5py.VirtualLayout(shape=(5, *FRAME), maxshape=(None, *FRAME), dtype="<u2")
    layout[0:5] = h5py.VirtualSource(tmp_path / "a.h5", "/entry/data", shape=(5, *FRAME))[0:5]
    with h5py.File(tmp_path / "h5py.h5", "w", libver=("v110", "latest")) as f:
        f.create_virtual_dataset("data", layout)
    (message,) = _virtual_layouts(tmp_path / "h5py.h5")
    raw = (tmp_path / "h5py.h5").read_bytes()
    blob = GlobalHeapCollection.decode(raw[message.heap_address :]).object(message.heap_index).data
    theirs = VirtualMappingList.decode(blob)
    ours = VirtualMappingList(
        (run_mapping(str(tmp_path / "a.h5"), "/entry/data", FRAME, n_frames=5),)
    )
    assert theirs == ours and theirs.encode() == ours.encode()
    assert u == 2**64 - 1


def test_atomic_replace_and_errors(tmp_path: Path) -> None:
    master = tmp_path / "m.h5"
    dataset = VirtualDataset.create("d", "<u2", (0, *FRAME), [run_mapping("x.h5", "d", FRAME)])
    write_master(master, [dataset])
    inode = master.stat().st_ino
    write_master(master, [dataset])
    assert master.stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]
    with h5py.File(master, "r") as f:  # a missing source reads as fill
        assert f["d"].shape == (0, *FRAME)
    with pytest.raises(InvalidArgumentError):
        write_master(master, [dataset, dataset])
    with pytest.raises(InvalidArgumentError):
        interleaved_mapping("a", "d", FRAME, worker=2, n_workers=2)


def test_attributes_and_hard_links(tmp_path: Path) -> None:
    """NeXus' shape of a master: NX_class on groups, units on a dataset, /entry/data/<signal> a
    second name of the detector's dataset; read by h5py (HDF5 2.x), h5py 3.8 and h5dump 1.10."""
    write_part(tmp_path / "a.h5", numbered_frames(0, 3))
    detector = "/entry/instrument/detector/frames"
    dataset = VirtualDataset.create(
        detector,
        "<u2",
        (3, *FRAME),
        [run_mapping("a.h5", "/entry/data", FRAME)],
        attrs=(("units", "counts"), ("long_name", "détecteur")),
    )
    groups = [
        GroupAttributes("/entry", (("NX_class", "NXentry"), ("series_id", 7))),
        GroupAttributes("/entry/data", (("NX_class", "NXdata"), ("signal", "frames"))),
        GroupAttributes("/entry/empty", (("NX_class", "NXcollection"),)),
    ]
    master = tmp_path / "m.h5"
    write_master(
        master,
        [dataset],
        [ExternalLink("/entry/part", "a.h5", "/entry/data")],
        hard_links=[HardLink("/entry/data/frames", detector)],
        groups=groups,
    )
    with h5py.File(master, "r") as f:
        assert dict(f["/entry"].attrs) == {"NX_class": "NXentry", "series_id": 7}
        assert dict(f["/entry/data"].attrs) == {"NX_class": "NXdata", "signal": "frames"}
        assert f["/entry/empty"].attrs["NX_class"] == "NXcollection"
        assert len(f["/entry/empty"]) == 0
        assert dict(f[detector].attrs) == {"units": "counts", "long_name": "détecteur"}
        assert f["/entry/data/frames"] == f[detector]  # one object, two names
        np.testing.assert_array_equal(f["/entry/data/frames"][...], numbered_frames(0, 3))
        assert f["/entry/part"].shape == (3, *FRAME)
    old = describe_with("3.8.0", master, export=["/entry/data/frames"])
    assert old["datasets"]["/entry/data/frames"]["addr"] == old["datasets"][detector]["addr"]
    assert sorted(old["groups"]["/entry"]["attrs"]) == ["NX_class", "series_id"]
    np.testing.assert_array_equal(old["arrays"]["/entry/data/frames"], numbered_frames(0, 3))
    assert h5dump_header(master).count('ATTRIBUTE "NX_class"') == 3
    assert '"counts"' in h5dump_text(master, "/entry/data/frames")  # the value, by its 2nd name
    with pytest.raises(InvalidArgumentError):
        write_master(master, [dataset], hard_links=[HardLink("/x", "/entry/nothing")])
