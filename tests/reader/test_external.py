"""External links (reader/external.py) followed by SwmrFileReader as h5py (libhdf5) follows
them: the target file is found where libhdf5 looks, read through a reader of its own, and
reopened at each refresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import DatasetNotFoundError, H5SwmrError
from h5swmr.reader import SwmrFileReader

FRAME = (3, 4)


def _target(path: Path, offset: int = 0) -> None:
    with h5py.File(path, "w", libver="latest") as f:
        entry = f.create_group("entry")
        entry.attrs["kind"] = np.int32(7 + offset)
        data = offset + np.arange(120, dtype="<u2").reshape(10, *FRAME)
        entry.create_dataset("data", data=data, chunks=(1, *FRAME), maxshape=(None, *FRAME))
        entry["data"].attrs["units"] = np.float64(0.5)
        entry["alias"] = h5py.SoftLink("/entry/data")
        f["line"] = np.arange(6, dtype="<f4") + offset


def _compare(f: h5py.File, r: SwmrFileReader, path: str) -> None:
    obj = f[path]
    if isinstance(obj, h5py.Group):
        assert r.kind(path) == "group"
        assert r.keys(path) == sorted(obj.keys())
    else:
        assert r.kind(path) == "dataset"
        assert (r.shape(path), r.dtype(path), r.maxshape(path)) == (
            obj.shape,
            obj.dtype,
            obj.maxshape,
        )
        assert r.read(path).tobytes() == obj[()].tobytes()
        assert r.read_frame(path, -1).tobytes() == obj[-1].tobytes()
        assert r.read_frames(path, 1, 4).tobytes() == obj[1:4].tobytes()
    ours, theirs = r.attrs(path), dict(obj.attrs)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(np.asarray(ours[k]), v) for k, v in theirs.items())


def test_external_links_match_h5py(tmp_path: Path) -> None:
    _target(tmp_path / "target.h5")
    with h5py.File(tmp_path / "mid.h5", "w") as f:
        f["hop"] = h5py.ExternalLink("target.h5", "/entry")
    with h5py.File(tmp_path / "main.h5", "w") as f:
        f["to_data"] = h5py.ExternalLink("target.h5", "/entry/data")
        f["to_group"] = h5py.ExternalLink("target.h5", "/entry")
        f["to_root"] = h5py.ExternalLink(str(tmp_path / "target.h5"), "/")
        f["chain"] = h5py.ExternalLink("mid.h5", "/hop")
        f["via_soft"] = h5py.ExternalLink("target.h5", "/entry/alias")
        f["local"] = np.arange(3)
    paths = [
        "to_data",
        "to_group",
        "to_group/data",
        "to_group/alias",
        "to_root",
        "to_root/line",
        "chain",
        "chain/data",
        "via_soft",
    ]
    with h5py.File(tmp_path / "main.h5") as f, SwmrFileReader.open(tmp_path / "main.h5") as r:
        for path in paths:
            _compare(f, r, path)
        assert r.links()["to_data"].kind == "external"
        assert r.tree()["/chain"] == "external link"


def test_target_found_where_libhdf5_looks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the linking file (from any working directory), else in the working directory; an
    absolute name that is gone, by its last component beside the linking file."""
    (tmp_path / "main").mkdir()
    (tmp_path / "cwd").mkdir()
    _target(tmp_path / "main" / "beside.h5", 1)
    _target(tmp_path / "cwd" / "here.h5", 2)
    _target(tmp_path / "main" / "moved.h5", 3)
    with h5py.File(tmp_path / "main" / "m.h5", "w") as f:
        f["beside"] = h5py.ExternalLink("beside.h5", "/entry/data")
        f["here"] = h5py.ExternalLink("here.h5", "/entry/data")
        f["moved"] = h5py.ExternalLink(str(tmp_path / "gone" / "moved.h5"), "/entry/data")
    monkeypatch.chdir(tmp_path / "cwd")
    main = Path("..") / "main" / "m.h5"
    with h5py.File(main) as f, SwmrFileReader.open(main) as r:
        for path in ("beside", "here", "moved"):
            _compare(f, r, path)
        assert int(r.read_frame("moved", 0)[0, 0]) == 3


def test_missing_target_and_link_cycle(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["gone"] = h5py.ExternalLink("nowhere.h5", "/data")
        f["loop"] = h5py.ExternalLink("b.h5", "/back")
    with h5py.File(tmp_path / "b.h5", "w") as f:
        f["back"] = h5py.ExternalLink("a.h5", "/loop")
    with h5py.File(tmp_path / "a.h5") as f:
        for name in ("gone", "loop"):
            with pytest.raises(KeyError):
                f[name]
    with SwmrFileReader.open(tmp_path / "a.h5") as r:
        with pytest.raises(DatasetNotFoundError, match=r"nowhere\.h5"):
            r.shape("gone")
        with pytest.raises(KeyError):  # DatasetNotFoundError is a KeyError, as h5py's is
            r.kind("gone")
        with pytest.raises(H5SwmrError, match="nested too deeply"):
            r.read("loop")


def _open_fds_to(path: Path) -> int:
    fds = Path("/proc/self/fd")
    if not fds.exists():  # pragma: no cover - Linux only
        pytest.skip("no /proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += fd.readlink() == path
        except OSError:
            continue
    return count


def test_refresh_reopens_and_close_releases(tmp_path: Path) -> None:
    _target(tmp_path / "target.h5")
    with h5py.File(tmp_path / "main.h5", "w") as f:
        f["link"] = h5py.ExternalLink("target.h5", "/entry/data")
    r = SwmrFileReader.open(tmp_path / "main.h5")
    before = r.read("link")
    assert _open_fds_to(tmp_path / "target.h5") == 1
    _target(tmp_path / "new.h5", 50)
    (tmp_path / "new.h5").replace(tmp_path / "target.h5")
    assert r.read("link").tobytes() == before.tobytes()  # this snapshot keeps the old file
    r.refresh()
    with h5py.File(tmp_path / "target.h5") as f:
        assert r.read("link").tobytes() == f["entry/data"][()].tobytes()
    r.close()
    assert _open_fds_to(tmp_path / "target.h5") == 0


def test_growing_target_through_a_link(tmp_path: Path) -> None:
    frames = [
        np.full(FRAME, i, "<i4") + np.arange(12, dtype="<i4").reshape(FRAME) for i in range(9)
    ]
    with h5py.File(tmp_path / "main.h5", "w") as f:
        f["live"] = h5py.ExternalLink("live.h5", "/entry/data")
    with SwmrFileWriter.create(tmp_path / "live.h5") as writer:
        writer.create_streaming_dataset("entry/data", "<i4", FRAME)
        writer.start_swmr()
        for frame in frames[:4]:
            writer.append_frame(0, frame)
        writer.flush()
        with SwmrFileReader.open(tmp_path / "main.h5") as r:
            np.testing.assert_array_equal(r.read("live"), np.stack(frames[:4]))
            for frame in frames[4:]:
                writer.append_frame(0, frame)
            writer.flush()
            assert r.shape("live") == (4, *FRAME)
            r.refresh()
            assert r.shape("live") == (9, *FRAME)
            np.testing.assert_array_equal(r.read_frames("live", 2), np.stack(frames[2:]))
            got = [frame for _, frame in r.follow("live", start=6, timeout=0.2)]
            np.testing.assert_array_equal(np.stack(got), np.stack(frames[6:]))


def _h5py_reads(path: Path, name: str, env: dict[str, str]) -> list[int]:
    """What libhdf5 reads with ``env`` set before it starts (it reads the prefix variables once)."""
    code = (
        "import sys, json, h5py\n"
        "with h5py.File(sys.argv[1], 'r') as f:\n"
        "    print(json.dumps(f[sys.argv[2]][()].ravel().tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), name],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd="/",
        check=True,
    )
    values: list[int] = json.loads(done.stdout)
    return values


@pytest.mark.parametrize("kind", ["external link", "virtual dataset"])
def test_files_found_through_the_prefix_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """HDF5_EXT_PREFIX / HDF5_VDS_PREFIX (":"-separated; for sources also "${ORIGIN}/..."):
    a target kept elsewhere is found as libhdf5 finds it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with h5py.File(elsewhere / "target.h5", "w") as f:
        f["x"] = np.arange(6, dtype="i4") * 7
    main = tmp_path / "main.h5"
    with h5py.File(main, "w", libver="latest") as f:
        if kind == "external link":
            f["linked"] = h5py.ExternalLink("target.h5", "/x")
        else:
            layout = h5py.VirtualLayout(shape=(6,), dtype="i4")
            layout[:] = h5py.VirtualSource("target.h5", "x", shape=(6,))
            f.create_virtual_dataset("linked", layout, fillvalue=-1)
    variable = "HDF5_EXT_PREFIX" if kind == "external link" else "HDF5_VDS_PREFIX"
    monkeypatch.chdir("/")
    settings = [f"/nowhere:{elsewhere}"]
    if kind == "virtual dataset":
        settings.append("${ORIGIN}/elsewhere")
    for setting in settings:
        monkeypatch.setenv(variable, setting)
        theirs = _h5py_reads(main, "linked", {variable: setting})
        with SwmrFileReader.open(main) as reader:
            assert reader.read("linked").tolist() == theirs == list(range(0, 42, 7)), setting
    monkeypatch.delenv(variable)
    with SwmrFileReader.open(main) as reader:
        if kind == "external link":
            with pytest.raises(DatasetNotFoundError, match=r"target\.h5"):
                reader.read("linked")
        else:
            assert reader.read("linked").tolist() == [-1] * 6  # a missing source reads as fill
