"""Structures written by libhdf5 (through h5py), found in the file's bytes, and the corruption
battery the reader's format modules must survive.

The reader's format modules decode only (h5swmr never writes these structures), so the oracle is
libhdf5: h5py writes a file, the test finds a structure by its signature or through the
superblock, decodes it and checks it against what h5py reports (chunk addresses through
``get_chunk_info``, link names, attribute values).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import ChecksumError, FormatError, H5SwmrError

"""Seconds the corruption battery may take for one structure."""
MAX_FLIP_POSITIONS = 2048
"""Larger blocks get their bit flips at this many positions (first, last and random ones)."""


def find_all(data: bytes, signature: bytes) -> list[int]:
    """Every offset of ``signature`` in ``data``."""
    found, at = [], data.find(signature)
    while at >= 0:
        found.append(at)
        at = data.find(signature, at + 1)
    return found


def check_corruption(
    decode: Callable[[bytes], object],
    good: bytes,
    *,
    checksummed: bool,
    garbage_rounds: int = 100,
    seed: int = 0,
) -> None:
    """``good`` (exactly one structure) decodes; every truncation raises FormatError (or its
    subclass TruncatedError); every bit flip in a checksummed block raises ChecksumError, in any
    other block decodes or raises an H5SwmrError; random garbage raises nothing else."""
    decode(good)
    for cut in range(len(good)):
        with pytest.raises(FormatError):
            decode(good[:cut])
    rng = random.Random(seed)
    positions: Sequence[int] = range(len(good))
    if len(good) > MAX_FLIP_POSITIONS:
        edges = [*range(64), *range(len(good) - 64, len(good))]
        positions = sorted({*edges, *rng.sample(range(len(good)), MAX_FLIP_POSITIONS - 128)})
    for position in positions:
        for mask in (0x01, 0x80):
            bad = bytearray(good)
            bad[position] ^= mask
            if checksummed:
                with pytest.raises(ChecksumError):
                    decode(bytes(bad))
            else:
                with contextlib.suppress(H5SwmrError):
                    decode(bytes(bad))
    for _ in range(garbage_rounds):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2 * len(good) + 8)))
        mutated = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        for candidate in (junk, bytes(mutated), good[:4] + junk, good[: len(good) // 2] + junk):
            with contextlib.suppress(H5SwmrError):
                decode(candidate)


# -- files ------------------------------------------------------------------------------------


def write_default_file(path: Path) -> None:
    """libhdf5's default format: superblock v0, v1 object headers, symbol-table groups, v1
    B-tree chunk indexes."""
    with h5py.File(path, "w") as f:
        f.attrs["title"] = np.bytes_(b"default format")
        f.attrs["n"] = np.int32(42)
        f.attrs["vec"] = np.arange(5, dtype=np.float64)
        f.attrs["matrix"] = np.arange(6, dtype=np.int16).reshape(2, 3)
        group = f.create_group("many")
        for i in range(40):  # group leaf K 4: several symbol table nodes
            group.create_dataset(f"d{i:02d}", data=np.array([i], dtype=np.int32))
        group["soft"] = h5py.SoftLink("/many/d00")
        f.create_dataset(
            "chunked", data=np.arange(200 * 3, dtype=np.uint16).reshape(200, 3), chunks=(1, 3)
        )  # 200 chunks > 2K = 64: a two-level chunk B-tree
        f.create_dataset(
            "gzip", data=np.arange(100, dtype=np.float64), chunks=(10,), compression="gzip"
        )


def write_latest_file(path: Path) -> None:
    """libver="latest": fixed arrays (unpaged, paged, with uninitialised pages), v2 B-trees of
    depth 0 to 2, dense groups (fractal heaps with a root direct and indirect block), v3
    attribute messages."""
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["title"] = np.bytes_(b"latest format")
        f.attrs["n"] = np.int32(42)
        f.attrs["vec"] = np.arange(5, dtype=np.float64)
        f.attrs["scalar_f"] = np.float32(1.5)
        f.create_dataset(
            "fa", data=np.arange(30 * 20, dtype=np.uint16).reshape(30, 20), chunks=(7, 6)
        )
        f.create_dataset(
            "fa_paged_gzip", data=np.arange(3000, dtype=np.int32), chunks=(2,), compression="gzip"
        )
        sparse = f.create_dataset("fa_sparse", shape=(4100,), chunks=(1,), dtype=np.int8)
        sparse[:10] = np.arange(10)  # page 0 initialised, pages 1-4 not
        sparse[3000] = 7  # page 2 initialised
        small = f.create_dataset(
            "bt2_leaf", shape=(4, 4), maxshape=(None, None), chunks=(2, 2), dtype="f4"
        )
        small[...] = 1.0
        deep = f.create_dataset(
            "bt2_deep", shape=(30, 30), maxshape=(None, None), chunks=(1, 1), dtype=np.int16
        )
        deep[...] = np.arange(900).reshape(30, 30)
        gz = f.create_dataset(
            "bt2_gzip",
            shape=(100, 100),
            maxshape=(None, None),
            chunks=(1, 1),
            dtype=np.int32,
            compression="gzip",
        )
        gz[...] = np.arange(10000).reshape(100, 100)
        for name, n in (("dense_small", 9), ("dense_big", 2000)):
            group = f.create_group(name)
            for i in range(n):
                group.create_group(f"g{i:05d}_{'x' * (i % 7)}")


def chunk_addresses(path: Path, name: str) -> dict[tuple[int, ...], tuple[int, int, int]]:
    """Scaled chunk coordinates -> (address, stored size, filter mask), as libhdf5 reports them."""
    with h5py.File(path, "r") as f:
        ds = f[name]
        chunks = ds.chunks
        found = {}

        def visit(info: h5py.h5d.StoreInfo) -> None:
            scaled = tuple(o // c for o, c in zip(info.chunk_offset, chunks, strict=True))
            found[scaled] = (info.byte_offset, info.size, info.filter_mask)

        ds.id.chunk_iter(visit)  # one pass (get_chunk_info(i) walks the index for each i)
        return found


@pytest.fixture(scope="session")
def default_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "default.h5"
    write_default_file(path)
    return path


@pytest.fixture(scope="session")
def latest_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "latest.h5"
    write_latest_file(path)
    return path
