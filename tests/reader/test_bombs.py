"""Decompression bombs and lying codec headers, written into real files with h5py's
write_direct_chunk: each read runs in a child whose address space may grow by HEADROOM only (a
bomb inflates to 1.5 GiB), and must end in a FilterError naming the dataset and the chunk while
the other chunks still read. Its peak memory stays within a small multiple of the chunk size.
"""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FilterError, FormatError
from h5swmr.reader import SwmrFileReader
from tests.cli.conftest import child_env
from tests.reader.fuzz import run_in_child

hdf5plugin = pytest.importorskip("hdf5plugin")

FRAME = (512, 1024)
DTYPE = np.dtype("<u2")
CHUNK_BYTES = FRAME[0] * FRAME[1] * DTYPE.itemsize  # 1 MiB
BOMB_BYTES = 1536 * CHUNK_BYTES  # 1.5 GiB
HEADROOM = 256 << 20
PEAK_LIMIT = 16 * CHUNK_BYTES
"""Most the peak resident size of the reading child may grow by."""
_MEBI_ZEROS = bytes(CHUNK_BYTES)


def deflate_bomb() -> bytes:
    """A zlib stream of BOMB_BYTES zeros (1.5 MB): one fully flushed, byte-aligned piece per MiB,
    all alike after the first, then the end and the Adler-32 of that many zeros."""
    deflater = zlib.compressobj(9)
    first = deflater.compress(_MEBI_ZEROS) + deflater.flush(zlib.Z_FULL_FLUSH)
    piece = deflater.compress(_MEBI_ZEROS) + deflater.flush(zlib.Z_FULL_FLUSH)
    end = deflater.flush()[:-4]
    adler = (BOMB_BYTES % 65521) << 16 | 1  # zeros: a stays 1, b gains 1 per byte
    return b"".join((first, piece * (BOMB_BYTES // CHUNK_BYTES - 1), end, adler.to_bytes(4, "big")))


def zstd_bomb() -> bytes:
    """One zstd frame of BOMB_BYTES zeros (48 KB) that says so: RLE blocks of 128 KiB."""
    header = struct.pack("<IB", 0xFD2FB528, 0xE0) + BOMB_BYTES.to_bytes(8, "little")
    block = 128 << 10
    count = BOMB_BYTES // block
    rle = ((block << 3) | (1 << 1)).to_bytes(3, "little") + b"\0"
    last = ((block << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"\0"
    return header + rle * (count - 1) + last


def _lz4_zeros() -> bytes:
    """One raw LZ4 block of a MiB of zeros (numcodecs' 4-byte size prefix dropped)."""
    from numcodecs import lz4

    return bytes(lz4.compress(_MEBI_ZEROS))[4:]


def lz4_bomb() -> bytes:
    """The HDF5 LZ4 plugin's format: BOMB_BYTES in blocks of a MiB of zeros (6 MB)."""
    block = _lz4_zeros()
    body = (struct.pack(">I", len(block)) + block) * (BOMB_BYTES // CHUNK_BYTES)
    return struct.pack(">QI", BOMB_BYTES, CHUNK_BYTES) + body


def bitshuffle_bomb() -> bytes:
    """Bitshuffle-LZ4: BOMB_BYTES in blocks of 512 Ki elements (a MiB) of zeros."""
    block = _lz4_zeros()
    body = (struct.pack(">I", len(block)) + block) * (BOMB_BYTES // CHUNK_BYTES)
    return struct.pack(">QI", BOMB_BYTES, CHUNK_BYTES) + body


def bitshuffle_zero_header() -> bytes:
    """The header libhdf5 never writes: 0 bytes in blocks of 0 (was a ZeroDivisionError)."""
    return bytes(12) + bytes(range(40))


def blosc_lying_header() -> bytes:
    """A real blosc buffer of a MiB whose header says it holds BOMB_BYTES."""
    from numcodecs import blosc

    buffer = bytearray(blosc.compress(_MEBI_ZEROS, b"lz4", 5, 1, 0, 2))
    struct.pack_into("<I", buffer, 4, BOMB_BYTES)
    return bytes(buffer)


CASES: dict[str, tuple[Callable[[], dict[str, object]], Callable[[], bytes]]] = {
    "deflate": (lambda: {"compression": "gzip"}, deflate_bomb),
    "zstd": (lambda: dict(hdf5plugin.Zstd()), zstd_bomb),
    "lz4": (lambda: dict(hdf5plugin.LZ4()), lz4_bomb),
    "bitshuffle": (lambda: dict(hdf5plugin.Bitshuffle()), bitshuffle_bomb),
    "bitshuffle_zero_header": (lambda: dict(hdf5plugin.Bitshuffle()), bitshuffle_zero_header),
    "blosc": (lambda: dict(hdf5plugin.Blosc()), blosc_lying_header),
}


def _write(path: Path, name: str) -> np.ndarray:
    """Three 1 MiB chunks: 0 and 2 written by libhdf5 through the filter, 1 the bomb."""
    options, bomb = CASES[name]
    frames = np.arange(3 * FRAME[0] * FRAME[1], dtype=DTYPE).reshape(3, *FRAME)
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset(
            f"entry/{name}", shape=frames.shape, dtype=DTYPE, chunks=(1, *FRAME), **options()
        )
        ds[0], ds[2] = frames[0], frames[2]
        ds.id.write_direct_chunk((1, 0, 0), bomb())
    return frames


def read_bomb(path: Path, dataset: str, frames: np.ndarray) -> str:
    """In the child: the good frames, then the bomb's FilterError and the peak memory it cost."""
    with SwmrFileReader.open(path) as reader:
        good = [bool(np.array_equal(reader.read_frame(dataset, i), frames[i])) for i in (0, 2)]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        error: dict[str, object] = {}
        try:
            reader.read_frame(dataset, 1)
        except FilterError as exc:
            error = {"message": str(exc), "dataset": exc.dataset, "chunk": exc.chunk}
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return json.dumps({"good": good, "error": error, "growth": after - before})


def _read_in_child(path: Path, name: str, frames: np.ndarray) -> dict[str, object]:
    outcome = run_in_child(read_bomb, (path, f"entry/{name}", frames), headroom=HEADROOM)
    try:
        result: dict[str, object] = json.loads(outcome)
    except ValueError:
        pytest.fail(f"the read did not end in a FilterError: {outcome}")
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_bomb_raises_filter_error_naming_dataset_and_chunk(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.h5"
    frames = _write(path, name)
    result = _read_in_child(path, name, frames)
    assert result["good"] == [True, True]
    error = result["error"]
    assert isinstance(error, dict)
    assert error["dataset"] == f"entry/{name}"
    assert error["chunk"] == [1, 0, 0]
    assert f"'entry/{name}'" in error["message"]
    assert "chunk (1, 0, 0)" in error["message"]
    assert isinstance(result["growth"], int)
    assert result["growth"] < PEAK_LIMIT


def test_the_deflate_bomb_is_real(tmp_path: Path) -> None:
    """The deflate bomb inflates to all of BOMB_BYTES (so the bounded decoder is what saves
    the reader), checked in pieces here without holding it whole."""
    inflater = zlib.decompressobj()
    total, data = 0, deflate_bomb()
    while data:
        total += len(inflater.decompress(data, 64 << 20))
        data = inflater.unconsumed_tail
    assert inflater.eof
    assert total == BOMB_BYTES


def test_watch_reports_a_bomb_in_one_line_under_a_2_gib_limit(tmp_path: Path) -> None:
    """The issue's case: ``h5swmr watch`` on a closed file whose latest frame is a bomb, the
    process limited to 2 GiB of address space: one line, exit code 1, no traceback."""
    path = tmp_path / "bomb.h5"
    frames = np.zeros((2, *FRAME), DTYPE)
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset(
            "entry/data", shape=frames.shape, dtype=DTYPE, chunks=(1, *FRAME), compression="gzip"
        )
        ds[0] = frames[0]
        ds.id.write_direct_chunk((1, 0, 0), deflate_bomb())

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    result = subprocess.run(
        [sys.executable, "-m", "h5swmr.cli.main", "watch", str(path), "--timeout", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        preexec_fn=limit,  # only setrlimit runs in the child before exec
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("h5swmr watch: error: dataset '/entry/data', chunk (1, 0, 0)")
    assert "Traceback" not in result.stderr


def test_a_row_of_millions_of_one_byte_chunks_is_refused_before_any_lookup(
    tmp_path: Path,
) -> None:
    """A 447-byte file can declare a row of 2**25 one-byte chunks: the lookups alone would take
    minutes, so a read refuses more chunks than max_read_bytes / CHUNK_VISIT_BYTES."""
    path = tmp_path / "many.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("d", shape=(1, 2**25), chunks=(1, 1), dtype="u1")
    with SwmrFileReader.open(path) as reader, pytest.raises(FormatError, match="chunks to visit"):
        reader.read_frame("d", 0)
