"""A structure-aware fuzzer of HDF5 files for the reader, each mutant read in a bounded child.

Mutations aim at the fields a hostile file would use: the superblock's and every signed
structure's version, sizes and addresses (OHDR/OCHK, B-trees v1 and v2, heaps, extensible and
fixed arrays), any 8-byte field that points at another structure or at a chunk (so continuation
chains, B-tree and array pointers get redirected to other structures, to themselves, past the
end), the codec headers at the start of chunks, and truncations. A mutated checksummed block gets
its checksum fixed, so the mutant reaches the decoder behind the checksum.

Each mutant is read in a forked child under an address-space limit (``RLIMIT_AS``) and a
per-file timeout; the outcome is the name of what the read ended with.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import struct
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import h5py
import numpy as np

from h5swmr.errors import H5SwmrError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.checksum import lookup3
from h5swmr.reader import SwmrFileReader
from h5swmr.writer.swmr_file_writer import SwmrFileWriter
from tests.reader.make_h5py_files import write_h5py_file

READ_LIMIT: Final = 1 << 22
"""max_read_bytes of the fuzzed reader: every result it may build stays this small."""
MEMORY_HEADROOM: Final = 1 << 30
"""Address space a child may add to what it has when forked: far below what a bomb wants."""
TIME_LIMIT: Final = 20.0
"""Seconds a child may take for one file (generous for a loaded 2-core machine: the reads of an
intact file take milliseconds; only a hang comes near it)."""
SIGNATURES: Final = (
    b"\x89HDF\r\n\x1a\n",
    b"OHDR",
    b"OCHK",
    b"TREE",
    b"HEAP",
    b"SNOD",
    b"GCOL",
    b"FRHP",
    b"FHDB",
    b"FHIB",
    b"BTHD",
    b"BTIN",
    b"BTLF",
    b"EAHD",
    b"EAIB",
    b"EASB",
    b"EADB",
    b"FAHD",
    b"FADB",
)
UNCHECKSUMMED: Final = (b"TREE", b"HEAP", b"SNOD", b"GCOL")
"""Signatures of the version-0 structures, which carry no checksum."""
CHECKSUM_SEARCH: Final = 8192
"""Bytes after a signature searched for the block's checksum (bigger blocks keep theirs bad)."""
OK: Final = "ok"
GOOD_PREFIX: Final = "H5SwmrError:"

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["h5swmr.reader", "h5swmr.filters.pipeline", "tests.reader.fuzz"])


# -- the original files ------------------------------------------------------------------------


def h5swmr_original(path: Path) -> None:
    """Streaming datasets of every codec, metadata datasets (contiguous, compact, strings in a
    global heap) and an attribute, written by h5swmr."""
    with SwmrFileWriter.create(path) as w:
        a = w.create_streaming_dataset("frames", np.uint16, (4, 4))
        b = w.create_streaming_dataset_compressed(
            "entry/z", np.float32, (3, 5), FilterPipeline.shuffle_deflate().with_fletcher32()
        )
        codecs = {
            "lz4": (np.uint16, FilterPipeline.lz4()),
            "bslz4": (np.uint32, FilterPipeline.bitshuffle_lz4()),
            "zstd": (np.int16, FilterPipeline.zstd()),
            "blosc": (np.uint16, FilterPipeline.blosc()),
            "bszstd": (np.uint16, FilterPipeline.bitshuffle_zstd()),
        }
        handles = {
            w.create_streaming_dataset_compressed(f"codec/{name}", dtype, (8, 8), pipeline): dtype
            for name, (dtype, pipeline) in codecs.items()
        }
        w.write_dataset("meta/mask", np.arange(2000, dtype=np.uint32))  # contiguous
        w.write_dataset("meta/distance", 0.5)  # compact
        w.write_string_dataset("meta/names", ["a", "", "ünïcode"] * 10)  # global heap
        w.set_attribute("frames", "units", "counts")
        w.set_attribute("meta/distance", "units", "m")
        w.start_swmr()
        for i in range(40):
            w.append_frame(a, np.full((4, 4), i, np.uint16))
            w.append_frame(b, np.full((3, 5), i, np.float32))
            if i < 6:
                ramp = np.arange(64).reshape(8, 8) + i
                for handle, dtype in handles.items():
                    w.append_frame(handle, ramp.astype(dtype))


def heaps_original(path: Path, links: int = 300, name_length: int = 100) -> None:
    """A user block, dense and huge attributes, and a link heap past its root indirect block
    (with enough ``links`` of ``name_length``)."""
    with h5py.File(path, "w", libver="latest", userblock_size=512) as f:
        g = f.create_group("g")
        for i in range(links):
            g[f"{i:04d}_" + "n" * name_length] = h5py.SoftLink("/d")
        f["d"] = np.arange(12, dtype="i2").reshape(3, 4)
        for i in range(20):
            f["d"].attrs[f"a{i}"] = f"value {i}" if i % 2 else np.arange(i + 1)
        f["d"].attrs["huge"] = np.arange(2000, dtype="f8")


def _plugin_file(path: Path) -> None:
    """Codec chunks written by libhdf5 through hdf5plugin's filters."""
    import hdf5plugin

    data = np.arange(600, dtype=np.uint16).reshape(20, 30)
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("lz4", data=data, chunks=(5, 30), **hdf5plugin.LZ4())
        f.create_dataset("bslz4", data=data, chunks=(5, 30), **hdf5plugin.Bitshuffle())
        f.create_dataset("zstd", data=data, chunks=(5, 30), **hdf5plugin.Zstd())
        f.create_dataset("blosc", data=data, chunks=(5, 30), **hdf5plugin.Blosc())


KINDS: Final[dict[str, Callable[[Path], None]]] = {
    "h5swmr": h5swmr_original,
    "latest": lambda p: write_h5py_file(p, "latest"),
    "earliest": lambda p: write_h5py_file(p, "earliest"),
    "heaps": heaps_original,
    "plugins": _plugin_file,
}


def write_originals(folder: Path) -> dict[str, bytes]:
    """Every kind of original file, written into ``folder``: name -> bytes."""
    originals = {}
    for kind, write in KINDS.items():
        path = folder / f"{kind}.h5"
        write(path)
        originals[kind] = path.read_bytes()
    return originals


# -- where the structures are ------------------------------------------------------------------


def _chunk_extents(path: Path) -> list[tuple[int, int]]:
    """(file offset, size) of up to 8 stored chunks per chunked dataset, by libhdf5."""
    extents: list[tuple[int, int]] = []

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset) and obj.chunks is not None:
            for i in range(min(obj.id.get_num_chunks(), 8)):
                info = obj.id.get_chunk_info(i)
                if info.byte_offset is not None and info.size:
                    extents.append((int(info.byte_offset), int(info.size)))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return extents


@dataclass
class Layout:
    """What the fuzzer knows about one original file."""

    data: bytes
    chunks: list[tuple[int, int]]
    objects: list[int]
    """Addresses of the object headers (version 1 headers have no signature to find)."""
    checksum_ends: dict[int, int | None] = field(default_factory=dict)

    @cached_property
    def signatures(self) -> list[int]:
        found = []
        for signature in SIGNATURES:
            start = self.data.find(signature)
            while start >= 0:
                found.append(start)
                start = self.data.find(signature, start + 1)
        return sorted(found)

    @cached_property
    def structures(self) -> list[int]:
        """File offsets of every signed structure and object header."""
        return sorted(set(self.signatures) | {self.base + a for a in self.objects})

    @cached_property
    def base(self) -> int:
        """Where the superblock is (addresses count from there)."""
        return max(0, self.data.find(SIGNATURES[0]))

    @cached_property
    def pointers(self) -> list[int]:
        """Offsets of 8-byte little-endian fields holding the address of a structure or chunk."""
        targets = np.array(
            sorted({s - self.base for s in self.structures} | {a for a, _ in self.chunks}),
            dtype="<u8",
        )
        found: list[int] = []
        raw = np.frombuffer(self.data, np.uint8)
        for shift in range(8):
            words = (raw.size - shift) // 8
            values = raw[shift : shift + words * 8].view("<u8")
            hits = np.nonzero(np.isin(values, targets) & (values != 0))[0]
            found += [shift + 8 * int(h) for h in hits]
        return sorted(found)

    def checksum_end(self, start: int) -> int | None:
        """Offset of the checksum of the block that starts at ``start``, if it has one."""
        unsigned = self.data[start : start + 4] in UNCHECKSUMMED or start not in self.signatures
        if start == self.base and self.data[start + 8] < 2:  # superblock v0, v1
            unsigned = True
        if unsigned:
            return None
        if start not in self.checksum_ends:
            view = memoryview(self.data)
            end = None
            stop = min(len(self.data) - 4, start + CHECKSUM_SEARCH)
            for candidate in range(start + 8, stop + 1):
                if (
                    lookup3(view[start:candidate])
                    == struct.unpack_from("<I", self.data, candidate)[0]
                ):
                    end = candidate
                    break
            self.checksum_ends[start] = end
        return self.checksum_ends[start]

    def block_of(self, offset: int) -> int | None:
        """The start of the signed structure ``offset`` most likely lies in."""
        before = [s for s in self.structures if s <= offset]
        return before[-1] if before else None


def _reseal(data: bytearray, layout: Layout, offset: int) -> None:
    """Fix the checksum of the block holding ``offset`` (if it has one and the mutation did not
    touch the checksum itself)."""
    start = layout.block_of(offset)
    if start is None:
        return
    end = layout.checksum_end(start)
    if end is None or not start <= offset < end:
        return
    struct.pack_into("<I", data, end, lookup3(bytes(data[start:end])))


# -- mutations ---------------------------------------------------------------------------------


def _interesting(old: int, width: int, layout: Layout, rng: random.Random) -> int:
    top = (1 << (8 * width)) - 1
    values = [
        0,
        1,
        top,
        top >> 1,
        (top >> 1) + 1,
        old + 1,
        old - 1,
        old * 2,
        old // 2,
        old ^ (1 << rng.randrange(8 * width)),
        len(layout.data),
        len(layout.data) - layout.base - 1,
        1 << 31,
        1 << 40,
        rng.randrange(top + 1),
    ]
    return values[rng.randrange(len(values))] & top


def _write_field(
    data: bytearray, layout: Layout, offset: int, width: int, value: int, big: bool = False
) -> None:
    if offset < 0 or offset + width > len(data):
        return
    data[offset : offset + width] = value.to_bytes(width, "big" if big else "little")


def mutate(layout: Layout, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of ``layout``'s file and the name of the mutation."""
    data = bytearray(layout.data)
    kind = rng.choice(
        ("field", "field", "version", "pointer", "pointer", "codec", "truncate", "flip")
    )
    if kind == "pointer" and not layout.pointers:
        kind = "field"
    if kind == "codec" and not layout.chunks:
        kind = "flip"
    if kind == "field":
        start = rng.choice(layout.structures)
        width = rng.choice((1, 2, 4, 8))
        offset = start + rng.randrange(4, 64)
        old = int.from_bytes(data[offset : offset + width], "little")
        _write_field(data, layout, offset, width, _interesting(old, width, layout, rng))
        _reseal(data, layout, offset)
    elif kind == "version":
        start = rng.choice(layout.structures)
        offset = start + (8 if data[start : start + 1] == b"\x89" else 4)
        _write_field(data, layout, offset, 1, rng.choice((0, 1, 2, 3, 4, 5, 255)))
        _reseal(data, layout, offset)
    elif kind == "pointer":
        offset = rng.choice(layout.pointers)
        choices = [
            rng.choice(layout.structures) - layout.base,
            (layout.block_of(offset) or 0) - layout.base,
            0,
            (1 << 64) - 1,
            len(layout.data) - layout.base + rng.randrange(64),
            1 << 62,
            int.from_bytes(data[offset : offset + 8], "little") + rng.choice((1, 8, -8)),
        ]
        _write_field(data, layout, offset, 8, rng.choice(choices) % (1 << 64))
        _reseal(data, layout, offset)
    elif kind == "codec":
        address, size = rng.choice(layout.chunks)
        for _ in range(rng.randrange(1, 3)):
            width = rng.choice((4, 8))
            offset = address + layout.base + rng.randrange(0, 17, 4)
            if offset + width > address + layout.base + size:
                continue
            big = rng.random() < 0.5
            old = int.from_bytes(data[offset : offset + width], "big" if big else "little")
            value = _interesting(old, width, layout, rng)
            _write_field(data, layout, offset, width, value, big)
    elif kind == "truncate":
        if rng.random() < 0.5:
            cut = rng.randrange(len(data))
        else:
            cut = rng.choice(layout.structures) + rng.randrange(-8, 64)
        del data[max(0, cut) :]
    else:
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return kind, bytes(data)


# -- reading a mutant in a bounded child -------------------------------------------------------


def exercise(path: Path) -> Iterator[str]:
    """Everything a user can ask of a file; yields what was done."""
    with SwmrFileReader.open(path, max_read_bytes=READ_LIMIT) as r:
        tree = r.tree()
        _ = r.writer_active
        for name, kind in tree.items():
            if kind == "dataset":
                shape = r.shape(name)
                r.dtype(name), r.chunks(name), r.filters(name), r.maxshape(name)
                r.read(name)
                if len(shape) > 1 and shape[0]:
                    for i in (0, shape[0] // 2, -1, 0):  # the fast path, cold then warm
                        r.read_frame(name, i)
                yield name
            if kind in ("group", "dataset"):
                r.attrs(name)


def _virtual_size() -> int:
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")  # pragma: no cover


def _read_everything(path: Path) -> str:
    for _ in exercise(path):
        pass
    return OK


def _child(work: Callable[..., str], args: tuple[object, ...], headroom: int, conn: Any) -> None:
    """Runs in the child: do the work under the address-space limit, send the outcome."""
    outcome = OK
    try:
        limit = _virtual_size() + headroom
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        outcome = work(*args)
    except H5SwmrError as exc:
        outcome = GOOD_PREFIX + type(exc).__name__
    except BaseException as exc:  # exactly what the fuzzer looks for
        lines = traceback.format_exception(exc)
        outcome = f"{type(exc).__name__}: {exc}\n{''.join(lines[-6:])}"
    conn.send(outcome[:8000])
    conn.close()


def read_in_child(path: Path, timeout: float = TIME_LIMIT) -> str:
    """The outcome of reading ``path`` in a child: "ok", "H5SwmrError:<class>", the
    exception that escaped, "timeout" or "killed by signal N"."""
    return run_in_child(_read_everything, (path,), timeout)


def run_in_child(
    work: Callable[..., str],
    args: tuple[object, ...],
    timeout: float = TIME_LIMIT,
    headroom: int = MEMORY_HEADROOM,
) -> str:
    """What ``work(*args)`` returns in a child allowed ``headroom`` more bytes of address space
    than it starts with: its string, "H5SwmrError:<class>" for an H5SwmrError, the other
    exception that escaped (with the end of its traceback), "timeout" or "killed by signal N".

    Children come from a fork server, a fresh process that has imported the reader but run
    nothing: a child forked from the test process itself would inherit the state of OpenMP's
    thread pool (bitshuffle's), whose next parallel region then hangs.
    """
    receive, send = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_child, args=(work, args, headroom, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            child.kill()
            child.join()
            return "timeout"
        try:
            outcome: str = receive.recv()
        except EOFError:
            outcome = ""
        child.join()
    finally:
        receive.close()
    if child.exitcode is not None and child.exitcode < 0:
        return f"killed by signal {-child.exitcode}"
    return outcome or f"no outcome (child exited with {child.exitcode})"


def is_acceptable(outcome: str) -> bool:
    return outcome == OK or outcome.startswith(GOOD_PREFIX)


@dataclass
class Campaign:
    """Results of a fuzzing run: outcome counts and the failing mutants kept for a report."""

    outcomes: Counter[str] = field(default_factory=Counter)
    mutations: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    """(original kind, mutation, outcome) of each mutant that broke the rules."""
    changed: list[str] = field(default_factory=list)
    """Mutants whose file changed while it was read (the reader must never write)."""

    @property
    def count(self) -> int:
        return sum(self.outcomes.values())


def run_campaign(
    originals: dict[str, bytes],
    layouts: dict[str, Layout],
    folder: Path,
    seeds: range,
    keep: Callable[[], bool] = lambda: True,
    workers: int = 2,
) -> Campaign:
    """Mutant ``seed`` of every original for each seed (while ``keep()``), each read in a child
    of its own, ``workers`` children at a time (the results do not depend on it)."""
    campaign = Campaign()

    def one(kind: str, seed: int) -> tuple[str, str, str, bytes, bool]:
        mutation, data = mutate(layouts[kind], random.Random(f"{kind}:{seed}"))
        path = folder / f"{kind}-{seed}.h5"
        path.write_bytes(data)
        outcome = read_in_child(path)
        changed = path.read_bytes() != data
        path.unlink()
        return path.name, mutation, outcome, data, changed

    with ThreadPoolExecutor(workers) as pool:
        for seed in seeds:
            if not keep():
                break
            for kind, name_mutation_outcome in [
                (kind, pool.submit(one, kind, seed)) for kind in originals
            ]:
                name, mutation, outcome, data, changed = name_mutation_outcome.result()
                campaign.mutations[mutation] += 1
                campaign.outcomes[outcome if is_acceptable(outcome) else "FAIL"] += 1
                if not is_acceptable(outcome):
                    campaign.failures.append((f"{kind} seed {seed}", mutation, outcome))
                    kept = folder / "failures"
                    kept.mkdir(exist_ok=True)
                    (kept / name).write_bytes(data)
                if changed:
                    campaign.changed.append(name)
    return campaign


def _object_addresses(path: Path) -> list[int]:
    """Header address of every object, found by walking the intact file."""
    with SwmrFileReader.open(path) as reader:
        return [reader._locate(name)[1] for name in reader.tree()]


def layouts_of(folder: Path, originals: dict[str, bytes]) -> dict[str, Layout]:
    """What the fuzzer needs to know of each original (written by ``write_originals``)."""
    layouts = {}
    for kind, data in originals.items():
        path = folder / f"{kind}.h5"
        layouts[kind] = Layout(data, _chunk_extents(path), _object_addresses(path))
    return layouts
