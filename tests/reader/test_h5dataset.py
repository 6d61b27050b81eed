"""``Dataset`` beyond selections: chunk details under h5py's low-level names, iter_chunks,
read_direct, scalars, refresh, frames and follow, each checked against h5py on the same file."""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from h5swmr import FileLocking, H5SwmrError, SwmrFileWriter


@pytest.fixture
def chunked(tmp_path: Path) -> Path:
    path = tmp_path / "chunked.h5"
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset(
            "d", shape=(5, 6), dtype="<i4", chunks=(2, 4), compression="gzip", fillvalue=-1
        )
        d[0:2, 0:4] = 1
        d[4, 5] = 9
        f["s"] = np.float32(1.5)
        f["c"] = np.arange(10.0)
    return path


def test_chunk_details_match_h5py(chunked: Path) -> None:
    with h5py.File(chunked, "r") as theirs, h5swmr.File(chunked) as ours:
        mine, real = ours["d"], theirs["d"]
        assert mine.id.get_num_chunks() == real.id.get_num_chunks() == 2
        for i in range(2):
            assert tuple(mine.id.get_chunk_info(i)) == tuple(real.id.get_chunk_info(i))
        for offset in [(0, 0), (4, 4)]:
            assert tuple(mine.id.get_chunk_info_by_coord(offset)) == tuple(
                real.id.get_chunk_info_by_coord(offset)
            )
        unwritten = mine.id.get_chunk_info_by_coord((2, 0))  # h5py's other fields are junk
        assert (unwritten.byte_offset, unwritten.size) == (None, 0)
        assert real.id.get_chunk_info_by_coord((2, 0)).byte_offset is None
        assert mine.id.read_direct_chunk((4, 4)) == real.id.read_direct_chunk((4, 4))
        edge = mine.id.read_chunk((4, 4))
        assert edge is not None and edge.shape == (2, 4) and edge[0, 1] == 9
        assert mine.id.read_chunk((2, 0)) is None
        assert mine.id.get_storage_size() == real.id.get_storage_size()
        for sel in (None, np.s_[1:5, 3:6]):
            assert list(mine.iter_chunks(sel)) == list(real.iter_chunks(sel))
        assert (mine.compression, mine.compression_opts, mine.fillvalue) == ("gzip", 4, -1)
        assert mine.fillvalue == real.fillvalue
        out, ref = np.zeros((3, 6), "<i4"), np.zeros((3, 6), "<i4")
        mine.read_direct(out, np.s_[2:5], np.s_[0:3])
        real.read_direct(ref, np.s_[2:5], np.s_[0:3])
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(np.asarray(mine), real[()])
        assert (mine.ndim, mine.size, mine.nbytes, len(mine)) == (2, 30, 120, 5)
        with pytest.raises(TypeError):
            ours["c"].iter_chunks().__next__()


def test_scalar_dataset_as_h5py(chunked: Path) -> None:
    with h5py.File(chunked, "r") as theirs, h5swmr.File(chunked) as ours:
        mine, real = ours["s"], theirs["s"]
        assert type(mine[()]) is type(real[()]) and mine[()] == real[()]
        assert mine[...].shape == real[...].shape == ()
        with pytest.raises(TypeError) as caught:
            len(mine)
        assert isinstance(caught.value, H5SwmrError)
        with pytest.raises(ValueError):
            mine[0]


def test_refresh_frames_and_follow(tmp_h5: Path) -> None:
    w = SwmrFileWriter.create_with_locking(tmp_h5, FileLocking.DISABLED)
    ds = w.create_streaming_dataset("frames", np.uint16, (3, 2))
    w.start_swmr()
    for i in range(3):
        w.append_frame(ds, np.full((3, 2), i, np.uint16))
    w.flush()
    with h5swmr.File(tmp_h5) as ours:
        frames = ours["frames"]
        assert frames.shape == (3, 3, 2) and frames.maxshape[0] is None
        w.append_frame(ds, np.full((3, 2), 3, np.uint16))
        w.flush()
        assert frames.shape == (3, 3, 2)  # the snapshot until refresh()
        frames.refresh()
        assert frames.shape == (4, 3, 2)
        assert [int(f[0, 0]) for f in frames.frames(1)] == [1, 2, 3]
        only_new = frames.follow(start="end", timeout=5.0)
        w.append_frame(ds, np.full((3, 2), 4, np.uint16))
        w.close()
        assert [i for i, _ in only_new] == [4]
        everything = [(i, int(f[0, 0])) for i, f in frames.follow(timeout=5.0)]
        assert everything == [(i, i) for i in range(5)]
        with pytest.raises(ValueError):
            next(frames.follow(start=-1))


@pytest.fixture
def virtual(tmp_path: Path) -> Path:
    """A virtual dataset over two source files (h5py's VirtualLayout), with fill between."""
    layout = h5py.VirtualLayout(shape=(7, 4, 3), dtype="<f4")
    for k in range(2):
        source = tmp_path / f"src{k}.h5"
        with h5py.File(source, "w") as f:
            f["data"] = np.arange(36, dtype="<f4").reshape(3, 4, 3) + 100 * k
        layout[4 * k : 4 * k + 3] = h5py.VirtualSource(source.name, "data", shape=(3, 4, 3))
    path = tmp_path / "master.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_virtual_dataset("vds", layout, fillvalue=-1)
    return path


def test_virtual_dataset_selections_as_h5py(virtual: Path) -> None:
    with h5py.File(virtual, "r") as theirs, h5swmr.File(virtual) as ours:
        mine, real = ours["vds"], theirs["vds"]
        assert mine.is_virtual and real.is_virtual
        assert [(m.file_name, m.dset_name) for m in mine.virtual_sources()] == [
            (m.file_name, m.dset_name) for m in real.virtual_sources()
        ]
        for key in (np.s_[...], 3, -1, np.s_[1:6:2, ::3, 1], np.s_[[0, 4, 6], 2:], np.s_[5, 3, 2]):
            got, want = mine[key], real[key]
            assert type(got) is type(want)
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), key


def test_one_element_of_many_chunks_reads_only_its_chunk(tmp_path: Path) -> None:
    """A slice reads only the chunks it touches: one element of 20,000 one-element chunks costs
    the superblock, headers and one index block, never the whole index or data."""
    path = tmp_path / "many.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("d", data=np.arange(20_000, dtype="<i8"), chunks=(1,), maxshape=(None,))
    read: list[int] = []

    class Counting(io.FileIO):
        def read(self, size: int | None = -1, /) -> bytes:
            data = super().read(size)
            read.append(len(data))
            return data

    with Counting(path, "r") as handle, h5swmr.File(handle) as ours:
        assert ours["d"][12_345] == 12_345
        assert ours["d"][19_999:] == [19_999]
    assert sum(read) < 16_384, (sum(read), path.stat().st_size)


def test_corrupt_chunk_and_truncated_file_are_os_errors_as_in_h5py(
    chunked: Path, tmp_path: Path
) -> None:
    with h5py.File(chunked, "r") as theirs:
        info = theirs["d"].id.get_chunk_info_by_coord((0, 0))
    broken = tmp_path / "broken.h5"
    data = bytearray(chunked.read_bytes())
    data[info.byte_offset : info.byte_offset + info.size] = bytes(info.size)  # not zlib now
    broken.write_bytes(bytes(data))
    with h5py.File(broken, "r") as theirs, pytest.raises(OSError):
        theirs["d"][0]
    with h5swmr.File(broken) as ours, pytest.raises(OSError) as caught:
        ours["d"][0]
    assert isinstance(caught.value, H5SwmrError)
    short = tmp_path / "short.h5"
    short.write_bytes(chunked.read_bytes()[:1200])
    with pytest.raises(OSError):
        h5py.File(short, "r")["d"][...]
    with pytest.raises(OSError):
        h5swmr.File(short)["d"][...]


def test_string_datasets_as_h5py_bytes_and_asstr(tmp_path: Path) -> None:
    path = tmp_path / "strings.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("v", data=["ab", "cdé", "x"], dtype=h5py.string_dtype())
        f.create_dataset(
            "c", data=list("abcd"), dtype=h5py.string_dtype(), chunks=(2,), maxshape=(None,)
        )
        f["s"] = "scalar text"
    with h5py.File(path, "r") as theirs, h5swmr.File(path) as ours:
        assert ours["v"].dtype == theirs["v"].dtype
        for name, keys in (("v", [(), 1, np.s_[::2], [0, 2]]), ("c", [(), 3, np.s_[1::2]])):
            for key in keys:
                for mine, real in (
                    (ours[name][key], theirs[name][key]),
                    (ours[name].asstr()[key], theirs[name].asstr()[key]),
                ):
                    assert type(mine) is type(real)
                    assert np.asarray(mine).tolist() == np.asarray(real).tolist(), (name, key)
        assert ours["s"][()] == theirs["s"][()] == b"scalar text"
        assert ours["s"].asstr()[()] == "scalar text"


def test_layout_of_each_storage_as_h5py(chunked: Path, virtual: Path) -> None:
    """Compact, contiguous, chunked and virtual: ``id.get_create_plist().get_layout()``."""
    with h5py.File(chunked, "a") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((4,))
        h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_I16LE, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, np.arange(4, dtype="<i2")
        )
    cases = [(chunked, name) for name in ("compact", "c", "s", "d")] + [(virtual, "vds")]
    seen = set()
    for path, name in cases:
        with h5py.File(path, "r") as theirs, h5swmr.File(path) as ours:
            layout = ours[name].id.get_create_plist().get_layout()
            assert layout == theirs[name].id.get_create_plist().get_layout(), name
            seen.add(layout)
    assert seen == {h5py.h5d.COMPACT, h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED, h5py.h5d.VIRTUAL}


def test_fixed_length_strings_as_h5py_bytes_and_asstr(tmp_path: Path) -> None:
    """S<n> datasets: ``d[key]`` gives the S<n> array, ``asstr()`` decodes each value with the
    dataset's charset (ASCII refuses UTF-8 bytes, as h5py does) or the encoding given."""
    path = tmp_path / "fixed.h5"
    values = ["ab", "c\u00e9", "", "xyz"]
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("ascii", data=np.char.encode(values, "utf-8"), dtype="S4")
        utf8 = h5py.string_dtype("utf-8", 4)
        f.create_dataset("utf8", data=np.char.encode(values, "utf-8").astype(utf8))
        f.create_dataset("one", data=np.bytes_(b"abc"), dtype="S3")
    with h5py.File(path, "r") as theirs, h5swmr.File(path) as ours:
        assert theirs["utf8"].id.get_type().get_cset() == h5py.h5t.CSET_UTF8
        for key in [(), 1, np.s_[::2], [0, 3]]:
            for name, encoding, errors in (
                ("ascii", "utf-8", "strict"),
                ("ascii", None, "replace"),
                ("utf8", None, "strict"),
            ):
                mine = ours[name].asstr(encoding, errors)[key]
                real = theirs[name].asstr(encoding, errors)[key]
                assert type(mine) is type(real)
                assert np.asarray(mine).tolist() == np.asarray(real).tolist(), (name, key)
                assert ours[name][key].tolist() == theirs[name][key].tolist()
        with pytest.raises(UnicodeDecodeError):
            theirs["ascii"].asstr()[1]
        with pytest.raises(UnicodeDecodeError):
            ours["ascii"].asstr()[1]
        assert ours["one"].asstr()[()] == theirs["one"].asstr()[()] == "abc"


def test_record_fields_by_name_as_h5py(tmp_path: Path) -> None:
    """Field names anywhere in the key, one or several, with and without other indices."""
    path = tmp_path / "records.h5"
    dtype = np.dtype([("a", "<u4"), ("t", "<f8"), ("g", "u1"), ("xy", "<f4", (2,))], align=True)
    data = np.zeros((4, 3), dtype)
    for i, name in enumerate(dtype.names or ()):
        data[name] = (np.arange(data[name].size) % 5 + i).reshape(data[name].shape)
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("r", data=data, chunks=(2, 3), compression="gzip")
        f["n"] = np.arange(3.0)
    keys: list[object] = ["t", "xy", ("g", "a"), (np.s_[1:3], "t"), ("t", np.s_[1:3]), (1, 2, "t")]
    keys += [(1, "xy"), (0, 1, "a", "g"), ("g", Ellipsis, 0)]
    with h5py.File(path, "r") as theirs, h5swmr.File(path) as ours:
        for key in keys:
            mine, real = ours["r"][key], theirs["r"][key]
            assert np.asarray(mine).dtype == np.asarray(real).dtype, key
            assert np.shape(mine) == np.shape(real), key
            assert np.asarray(mine).tobytes() == np.asarray(real).tobytes(), key
        for bad, dataset in (("nope", "r"), ("t", "n")):
            with pytest.raises(ValueError):
                theirs[dataset][bad]
            with pytest.raises(H5SwmrError, match=repr(bad) if dataset == "r" else "record"):
                ours[dataset][bad]
