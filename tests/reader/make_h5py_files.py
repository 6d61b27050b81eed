"""Files written by h5py (libhdf5 2.0) in both formats, with every layout and index kind."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np


def write_h5py_file(path: Path, libver: str | None) -> None:
    rng = np.random.default_rng(7)
    kw = {"libver": libver} if libver else {}
    with h5py.File(path, "w", **kw) as f:
        f.attrs["title"] = np.bytes_(b"fixed string")
        f.attrs["n"] = np.int32(42)
        f.attrs["vec"] = np.arange(5, dtype=np.float64)
        g = f.create_group("entry/data")
        g.attrs["scale"] = np.float32(1.5)
        g.attrs["label"] = np.array([b"ab", b"cde"], dtype="S3")
        f.create_dataset("contiguous", data=rng.integers(0, 1000, (7, 5), dtype=np.int32))
        compact = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        compact.set_layout(h5py.h5d.COMPACT)
        _create(f, "compact", np.arange(6, dtype=np.int16), compact)
        f.create_dataset("scalar", data=np.float64(3.25))
        f.create_dataset("empty", shape=(0, 3), dtype=np.uint8)
        f.create_dataset("single", data=rng.random((6, 4)), chunks=(6, 4))
        f.create_dataset("single_gzip", data=rng.random((6, 4)), chunks=(6, 4), compression="gzip")
        f.create_dataset("fixed", data=rng.integers(0, 9, (30, 20), dtype=np.uint16), chunks=(7, 6))
        f.create_dataset(
            "fixed_paged", data=np.arange(3000, dtype=np.int32), chunks=(2,), compression="gzip"
        )
        f.create_dataset("fixed_paged_raw", data=np.arange(4100, dtype=np.int8), chunks=(1,))
        f.create_dataset(
            "fixed_filtered",
            data=rng.integers(0, 99, (33, 17), dtype=np.int64),
            chunks=(4, 4),
            compression="gzip",
            shuffle=True,
            fletcher32=True,
        )
        d = f.create_dataset(
            "maxshape_n", shape=(3, 4), maxshape=(10, 4), chunks=(2, 2), dtype="f4"
        )
        d[...] = rng.random((3, 4))
        f.create_dataset("sparse", shape=(40, 40), chunks=(8, 8), dtype="i2", fillvalue=-7)
        f["sparse"][8:16, 0:8] = 5
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4, 4))
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        _create(f, "implicit", np.arange(90, dtype=np.int32).reshape(9, 10), dcpl)
        e = f.create_dataset("ea", shape=(0, 5), maxshape=(None, 5), chunks=(3, 5), dtype="u1")
        e.resize((200, 5))
        e[...] = rng.integers(0, 255, (200, 5))
        b = f.create_dataset(
            "bt2", shape=(10, 12), maxshape=(None, None), chunks=(3, 5), dtype="<i8"
        )
        b[...] = np.arange(120).reshape(10, 12)
        b.resize((400, 30))
        b[100:400, 10:30] = rng.integers(0, 1 << 40, (300, 20))
        z = f.create_dataset(
            "bt2_gzip",
            shape=(50, 50),
            maxshape=(None, None),
            chunks=(4, 4),
            compression="gzip",
            dtype="f8",
        )
        z[...] = rng.random((50, 50))
        f.create_dataset("big_endian", data=np.arange(12, dtype=">i4").reshape(3, 4))
        f.create_dataset("complex", data=(rng.random(8) + 1j).astype(np.complex128))
        f.create_dataset("strings", data=np.array([b"abc", b"de"], dtype="S4"))
        f["entry/data/link_to_fixed"] = f["fixed"]
        f["entry/soft"] = h5py.SoftLink("/fixed")


def _create(f: h5py.File, name: str, data: np.ndarray, dcpl: h5py.h5p.PropDCID) -> None:
    space = h5py.h5s.create_simple(data.shape)
    dtype = h5py.h5t.py_create(data.dtype)
    h5py.h5d.create(f.id, name.encode(), dtype, space, dcpl=dcpl)
    f[name][...] = data
