"""``h5swmr.File`` and ``Group`` against h5py on the same files: names, links, visit, attrs,
errors; and ``refresh()`` seeing what a writer's close publishes, h5py's SWMR reader the oracle."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from h5swmr import FileLocking, H5SwmrError, SwmrFileWriter


@pytest.fixture
def tree_file(tmp_path: Path) -> Path:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["far/x"] = np.arange(4)
    path = tmp_path / "tree.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["title"] = "a tree"
        f.attrs["count"] = np.int32(3)
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["vector"] = np.arange(3.0)
        entry["data"] = np.arange(12, dtype="<u2").reshape(3, 4)
        entry.create_group("empty")
        f["z_scalar"] = 2.5
        f["soft"] = h5py.SoftLink("/entry/data")
        f["dangling"] = h5py.SoftLink("/nowhere")
        f["ext"] = h5py.ExternalLink("other.h5", "/far")
        f["entry/again"] = entry["data"]  # a second hard link to the same dataset
    return path


def test_names_links_and_attrs_match_h5py(tree_file: Path) -> None:
    with h5py.File(tree_file, "r") as theirs, h5swmr.File(tree_file) as ours:
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert list(ours["entry"].keys()) == list(theirs["entry"].keys())
        for name in ("entry", "entry/data", "soft", "ext", "ext/x", "/entry/empty", "z_scalar"):
            assert name in ours
            if not name.startswith("ext"):  # h5py names it in the other file: "/far"
                assert ours[name].name == theirs[name].name
            assert isinstance(ours[name], h5swmr.Dataset) == isinstance(theirs[name], h5py.Dataset)
        assert "dangling" not in ours and "nope" not in ours
        np.testing.assert_array_equal(ours["soft"][...], theirs["soft"][...])
        np.testing.assert_array_equal(ours["ext/x"][...], theirs["ext/x"][...])
        assert dict(ours.attrs) == {k: theirs.attrs[k] for k in theirs.attrs}
        assert type(ours.attrs["title"]) is type(theirs.attrs["title"]) is str
        assert type(ours.attrs["count"]) is type(theirs.attrs["count"])
        np.testing.assert_array_equal(
            ours["entry"].attrs["vector"], theirs["entry"].attrs["vector"]
        )
        assert ours["entry/data"].parent.name == "/entry"
        assert ours["entry"]["data"] == ours["/entry/data"] == ours["entry/again"]
        assert theirs["entry/data"] == theirs["entry/again"]  # h5py: one object, two links
        assert ours["entry/data"] != ours["z_scalar"] and ours["entry"] != ours["/"]
        assert len({ours["soft"], ours["entry/again"], ours["entry/data"]}) == 1
        assert ours["entry/data"].file is ours


def test_get_with_getlink_gives_h5py_link_kinds(tree_file: Path) -> None:
    with h5py.File(tree_file, "r") as theirs, h5swmr.File(tree_file) as ours:
        for name in ("entry", "soft", "dangling", "ext", "nope"):
            mine, real = ours.get(name, getlink=True), theirs.get(name, getlink=True)
            assert type(mine).__name__ == type(real).__name__
            if isinstance(real, h5py.SoftLink):
                assert mine.path == real.path
            if isinstance(real, h5py.ExternalLink):
                assert (mine.filename, mine.path) == (real.filename, real.path)
        assert ours.get("entry", getclass=True) is h5swmr.Group
        assert ours.get("soft", getclass=True) is h5swmr.Dataset
        assert ours.get("soft", getclass=True, getlink=True) is h5swmr.SoftLink
        assert ours.get("nope", default=7) == 7


def test_visit_and_visititems_match_h5py(tree_file: Path) -> None:
    with h5py.File(tree_file, "r") as theirs, h5swmr.File(tree_file) as ours:
        mine: list[str] = []
        real: list[str] = []
        ours.visit(mine.append)
        theirs.visit(real.append)
        assert mine == real
        kinds = []
        ours.visititems(lambda n, o: kinds.append((n, type(o).__name__)))
        assert kinds == [(n, type(theirs[n]).__name__) for n in real]
        assert ours.visit(lambda n: n if n.endswith("empty") else None) == "entry/empty"
        sub: list[str] = []
        ours["entry"].visit(sub.append)
        assert sub == [n.removeprefix("entry/") for n in real if n.startswith("entry/")]


def test_errors_are_builtin_and_h5swmr(tree_file: Path, tmp_path: Path) -> None:
    with h5swmr.File(tree_file) as ours:
        for name in ("nope", "entry/nope", "dangling"):
            with pytest.raises(KeyError) as caught:
                ours[name]
            assert isinstance(caught.value, H5SwmrError)
        with pytest.raises(KeyError):
            ours.attrs["nope"]
    with pytest.raises(OSError) as missing:
        h5swmr.File(tmp_path / "missing.h5")
    assert isinstance(missing.value, H5SwmrError)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5" * 100)
    with pytest.raises(OSError) as bad:
        h5swmr.File(junk)
    assert isinstance(bad.value, H5SwmrError)
    with pytest.raises(ValueError, match="reading only"):
        h5swmr.File(tree_file, "a")


def test_refresh_sees_links_groups_and_datasets_published_at_close(tmp_h5: Path) -> None:
    """issue 15: a reader open across the writer's close sees what h5py's SWMR reader sees."""
    w = SwmrFileWriter.create_with_locking(tmp_h5, FileLocking.DISABLED)
    ds = w.create_streaming_dataset("frames", np.uint8, (2, 2))
    w.start_swmr()
    w.append_frame(ds, bytes([1, 2, 3, 4]))
    w.flush()
    ours = h5swmr.File(tmp_h5)
    frames = ours["frames"]
    assert list(ours) == ["frames"]
    w.create_hard_link("/", "alias", "frames")
    w.create_group("late/group")
    w.append_frame(ds, bytes([5, 6, 7, 8]))
    w.close()
    assert list(ours) == ["frames"]  # the snapshot until refresh, as h5py's
    frames.refresh()
    with h5py.File(tmp_h5, "r", swmr=True) as theirs:
        visible: list[str] = []
        theirs.visit(visible.append)
        seen: list[str] = []
        ours.visit(seen.append)
        assert seen == visible
        assert list(ours) == list(theirs)
        np.testing.assert_array_equal(ours["alias"][...], theirs["alias"][...])
    assert frames.shape == (2, 2, 2)
    ours.close()
