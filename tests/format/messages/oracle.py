"""Oracle files written by h5py (libhdf5 2.0) and the messages pulled out of their headers."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from h5swmr.format.object_header import ContinuationBlock, ObjectHeader, RawMessage

DTYPES = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "?", "S5"]
BIG_ENDIAN = [">i2", ">i4", ">u8", ">f4", ">f8"]
RECORDS = {
    "flat": np.dtype([("frame", "<u8"), ("t", "<f8"), ("gain", "u1")]),
    "aligned": np.dtype([("a", "u1"), ("b", "<f8"), ("ok", "?")], align=True),
    "orders": np.dtype([("a", ">i4"), ("b", ">c16"), ("c", "<f2"), ("d", "<c8")]),
    "nested": np.dtype([("a", "u1"), ("s", [("x", "<f4"), ("y", ">u2")])]),
    "arrays": np.dtype([("xy", "<f4", (2,)), ("m", ">i2", (2, 3))]),
    "gaps": np.dtype({"names": ["b", "a"], "formats": ["u1", "<u4"], "offsets": [8, 1],
                      "itemsize": 12}),
}  # fmt: skip
"""Structured dtypes, stored by h5py as compounds (class 6) as ``rec_<key>``."""


@dataclass(frozen=True)
class Oracle:
    path: Path
    messages: dict[str, tuple[RawMessage, ...]]

    def find(self, name: str, msg_type: int) -> list[RawMessage]:
        return [m for m in self.messages[name] if m.type == msg_type]

    def one(self, name: str, msg_type: int) -> bytes:
        (found,) = self.find(name, msg_type)
        return found.body


def _header_messages(buf: bytes, address: int) -> tuple[RawMessage, ...]:
    header = ObjectHeader.decode(buf[address:])
    out = list(header.messages)
    pending = [m for m in out if m.type == 0x10]
    while pending:
        body = pending.pop().body
        where, length = int.from_bytes(body[:8], "little"), int.from_bytes(body[8:], "little")
        block = ContinuationBlock.decode(buf[where : where + length], header_flags=header.flags)
        out += block.messages
        pending += [m for m in block.messages if m.type == 0x10]
    return tuple(out)


def _set_link_phase_change(gcpl: h5py.h5p.PropGCID, max_compact: int, min_dense: int) -> None:
    """h5py does not wrap H5Pset_link_phase_change; call the libhdf5 it bundles."""
    libs = sorted((Path(h5py.__file__).parent.parent / "h5py.libs").glob("libhdf5-*.so*"))
    lib = ctypes.CDLL(str(libs[0])) if libs else ctypes.CDLL(None)
    fn = lib.H5Pset_link_phase_change
    fn.argtypes = [ctypes.c_int64, ctypes.c_uint, ctypes.c_uint]
    assert fn(gcpl.id, max_compact, min_dense) >= 0


def write(path: Path, libver: tuple[str, str] | str) -> None:
    with h5py.File(path, "w", libver=libver) as f:
        for dt in DTYPES + BIG_ENDIAN:
            kw = {"shape": (0, 3), "maxshape": (None, 3), "chunks": (2, 3), "dtype": dt}
            f.create_dataset(f"d_{dt}", **kw)
            f.create_dataset(f"gz_{dt}", compression="gzip", **kw)
        for key, record in RECORDS.items():
            f.create_dataset(f"rec_{key}", shape=(0,), maxshape=(None,), chunks=(4,), dtype=record)
        f.create_dataset("big", shape=(0, 300, 70000), maxshape=(None, 300, 70000),
                         chunks=(1, 300, 7), dtype="u2")  # fmt: skip
        f.create_dataset(
            "fill", shape=(0, 3), maxshape=(None, 3), chunks=(2, 3), fillvalue=1.5, dtype="f4"
        )
        f.create_dataset("fixed", shape=(10, 3), maxshape=(20, 3), chunks=(2, 3), dtype="f4")
        f.create_dataset("btree2", shape=(0, 3), maxshape=(None, None), chunks=(2, 3), dtype="f4")
        f.create_dataset("single", shape=(2, 3), chunks=(2, 3), dtype="f4")
        f.create_dataset("single_gz", shape=(2, 3), chunks=(2, 3), dtype="f4", compression="gzip")
        f.create_dataset("scalar", data=5.0)
        f.create_dataset("contiguous", data=np.arange(10))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((3,))
        h5py.h5d.create(f.id, b"compact", h5py.h5t.NATIVE_INT32, space, dcpl=dcpl)
        g1 = f.create_group("g1")
        g1["data"] = f["d_f4"]
        g1["é"] = h5py.SoftLink("/g1")
        g1["ext"] = h5py.ExternalLink("other.h5", "/y")
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        _set_link_phase_change(gcpl, 12, 6)
        h5py.h5g.create(f.id, b"g12", gcpl=gcpl)
        for i in range(12):
            f.create_group(f"g12/x{i}")
        f.create_group("g12_default")
        for i in range(12):
            f.create_group(f"g12_default/x{i}")
        few = f.create_group("attrs_few")
        few.attrs["a"] = 1
        dense = f.create_group("attrs_dense")  # past 8 attributes libhdf5 moves them to a heap
        for i in range(20):
            dense.attrs[f"a{i:02}"] = np.arange(i + 1, dtype="i4")
        ordered = f.create_group("attrs_ordered", track_order=True)
        for name in ("z", "y", "x"):
            ordered.attrs[name] = name


def read(path: Path) -> Oracle:
    buf = path.read_bytes()
    messages: dict[str, tuple[RawMessage, ...]] = {}
    with h5py.File(path, "r") as f:
        names: list[str] = ["/"]
        f.visit(names.append)
        for name in names:
            address = h5py.h5o.get_info(f[name].id).addr
            messages[name] = _header_messages(buf, address)
    return Oracle(path, messages)


def every_message(o: Oracle) -> Iterator[tuple[str, RawMessage]]:
    for name, msgs in o.messages.items():
        for m in msgs:
            yield name, m
