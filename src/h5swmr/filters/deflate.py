"""Deflate, filter id 1 (libhdf5 H5Zdeflate.c): one zlib stream per chunk, as compress2 makes.

Chunks are compressed by one of four backends, all writing a standard zlib (RFC 1950) stream
that libhdf5 inflates:

- ``"isal"``: Intel ISA-L through the ``isal`` package (``isal.isal_zlib``), the fastest by far
  (about 7x stdlib zlib at level 4 on detector frames; the stream is ~14% larger unshuffled,
  within 1% after shuffle). ISA-L has four levels; zlib levels 1-3, 4-6 and 7-9 map to ISA-L 1,
  2 and 3. A core dependency wherever the package ships a wheel.
- ``"libdeflate"``: libdeflate through the ``deflate`` package (about 2x stdlib zlib at level 4,
  same level numbers).
- ``"zlib"``: the standard library.
- ``"libhdf5"``: the standard library, one stream per chunk, never split: byte for byte what
  libhdf5 itself writes (``"zlib"`` equals it too, for chunks too small to split).

``"auto"`` (the default) takes the first one installed of isal, libdeflate, zlib. The
environment variable ``H5SWMR_DEFLATE_BACKEND`` overrides what ``"auto"`` picks (``libhdf5`` to
get libhdf5's exact bytes); it is read once, when the first deflate filter is made
(``forget_backend_choice`` reads it again). Level 0 always stores uncompressed blocks with
stdlib zlib, as libhdf5 does. Every backend releases the GIL, so chunks compress in parallel on
the writer's filter threads.

One large chunk is also spread over those threads (``encode_split``), as pigz does: with isal or
zlib, its slices are compressed as raw deflate at once, each but the last ended with a full
flush (an empty stored block, so the next slice starts on a byte boundary with no reference
back), and joined behind one zlib header with the Adler-32 of the whole, combined from the
slices' own. Any inflater reads the result as one stream. libdeflate always ends its output
with a final block, so its chunks are never split. Decoding uses ISA-L's inflate when
``isal`` is installed (about 3x stdlib zlib on detector chunks, the same bytes out: inflating a
zlib stream has one answer), else stdlib zlib.
"""

from __future__ import annotations

import functools
import importlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import ClassVar, Final, Self, cast

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.base import Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

MIN_LEVEL = 0
MAX_LEVEL = 9
BACKENDS: Final = ("isal", "libdeflate", "zlib")
"""Deflate implementations in the order ``"auto"`` tries them."""
EXACT_BACKEND: Final = "libhdf5"
"""stdlib zlib, one stream per chunk: libhdf5's own bytes."""
BACKEND_ENVIRONMENT_VARIABLE: Final = "H5SWMR_DEFLATE_BACKEND"
_MODULES: Final = {
    "isal": "isal.isal_zlib",
    "libdeflate": "deflate",
    "zlib": "zlib",
    EXACT_BACKEND: "zlib",
}
_ISAL_LEVELS: Final = (0, 1, 1, 1, 2, 2, 2, 3, 3, 3)  # index: zlib level (0 is never used)
SPLIT_MIN_PART_BYTES: Final = {"isal": 256 * 1024, "zlib": 64 * 1024}
"""Smallest slice of a chunk worth a thread of its own, per splittable backend: below it the
hand-over costs more than the thread saves (benchmarks/split_threshold.py, 2 cores: zlib 0.95x
for a 64 KiB chunk, 1.9x from 128 KiB; ISA-L 0.96x at 256 KiB, 1.7x from 512 KiB)."""
_ADLER_BASE: Final = 65521
_RAW_WBITS: Final = -15

Compress = Callable[[BytesLike, int], bytes]


def _compressor(backend: str) -> Compress:
    """The compress function of ``backend``, or FilterUnavailableError if it is not installed."""
    try:
        module = importlib.import_module(_MODULES[backend])
    except ImportError as exc:
        package = _MODULES[backend].partition(".")[0]
        raise FilterUnavailableError(
            f"deflate backend {backend!r} needs the {package!r} package, which is not installed:"
            ' pip install "h5swmr[fast]"'
        ) from exc
    if backend == "isal":
        isal_compress = module.compress

        def compress(data: BytesLike, level: int) -> bytes:
            return isal_compress(data, _ISAL_LEVELS[level])  # type: ignore[no-any-return]

        return compress
    if backend == "libdeflate":
        libdeflate_compress = module.zlib_compress

        def compress_to_bytes(data: BytesLike, level: int) -> bytes:
            return bytes(libdeflate_compress(data, level))  # it returns a bytearray

        return compress_to_bytes
    return zlib.compress


@functools.cache
def resolve_backend(backend: str = "auto") -> str:
    """The backend ``backend`` names, with ``"auto"`` resolved to the best one installed."""
    if backend == "auto":
        wanted = os.environ.get(BACKEND_ENVIRONMENT_VARIABLE, "").strip().lower()
        if wanted and wanted != "auto":
            return resolve_backend(wanted)
        for candidate in BACKENDS:
            try:
                _compressor(candidate)
            except FilterUnavailableError:
                continue
            return candidate
    if backend not in _MODULES:
        choices = ", ".join(("auto", *_MODULES))
        raise FilterError(f"deflate backend {backend!r}: use one of {choices}")
    _compressor(backend)  # fails early when it is not installed
    return backend


@functools.cache
def _compress_function(backend: str) -> Compress:
    return _compressor(resolve_backend(backend))


@functools.cache
def _inflater() -> tuple[ModuleType, tuple[type[Exception], ...]]:
    """ISA-L's zlib module if installed, else stdlib zlib, and the errors its inflater raises."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib, (zlib.error,)
    return isal_zlib, (zlib.error, cast("type[Exception]", isal_zlib.error))


def forget_backend_choice() -> None:
    """Resolve ``"auto"`` and the environment variable anew at the next use (they are read once,
    at the first deflate filter made)."""
    resolve_backend.cache_clear()
    _compress_function.cache_clear()


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of ``a + b`` from ``adler32(a)``, ``adler32(b)`` and ``len(b)``.

    Adler-32 (RFC 1950 8.2) keeps s1 = 1 + the sum of the bytes and s2 = the sum of s1 after
    each byte, both modulo 65521. Appending ``b`` adds its byte sum to s1, and each of its
    ``len(b)`` steps adds a's s1 (less the 1 both start from) to s2 on top of b's own s2.
    """
    s1_first, s2_first = first & 0xFFFF, first >> 16
    s1 = (s1_first + (second & 0xFFFF) - 1) % _ADLER_BASE
    s2 = (s2_first + (second >> 16) + second_length * (s1_first - 1)) % _ADLER_BASE
    return s2 << 16 | s1


def zlib_header(level: int) -> bytes:
    """The two header bytes zlib writes at ``level``: 32 KiB window, FLEVEL, FCHECK (RFC 1950)."""
    flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    header = 0x78 << 8 | flevel << 6
    return (header + 31 - header % 31).to_bytes(2, "big")


@functools.cache
def _raw_module(backend: str) -> ModuleType:
    return importlib.import_module(_MODULES[backend])


def _raw_slice(backend: str, level: int, piece: tuple[memoryview, bool]) -> tuple[bytes, int]:
    """One slice as raw deflate (a full flush ends it unless it is the last) and its Adler-32."""
    data, last = piece
    module = _raw_module(backend)
    compressor = module.compressobj(
        _ISAL_LEVELS[level] if backend == "isal" else level, module.DEFLATED, _RAW_WBITS
    )
    body = compressor.compress(data)
    end = compressor.flush(module.Z_FINISH if last else module.Z_FULL_FLUSH)
    return b"".join((body, end)), module.adler32(data)


@dataclass(frozen=True, slots=True)
class DeflateFilter(Filter):
    """zlib (RFC 1950) compression at ``level`` 0..9; cd_values ``(level,)``.

    ``backend`` picks the implementation (see the module docstring); it changes the bytes
    written, never what they decode to, and is not part of the filter's identity (equality,
    cd_values, the file).
    """

    filter_id: ClassVar[FilterId] = FilterId.DEFLATE

    level: int = 4
    backend: str = field(default="auto", compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or not isinstance(self.level, int):
            raise FilterError(
                f"deflate level {self.level!r}: expected an int {MIN_LEVEL}..{MAX_LEVEL}"
            )
        if not MIN_LEVEL <= self.level <= MAX_LEVEL:
            raise FilterError(f"deflate level {self.level} outside {MIN_LEVEL}..{MAX_LEVEL}")
        if not isinstance(self.backend, str):
            raise FilterError(f"deflate backend {self.backend!r}: expected a name")
        resolve_backend(self.backend)  # an unknown or missing backend fails here, not mid-stream

    @property
    def backend_in_use(self) -> str:
        """The backend that compresses this filter's chunks (``"auto"`` resolved)."""
        return "zlib" if self.level == 0 else resolve_backend(self.backend)

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return (self.level,)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) != 1:
            raise FilterError(f"deflate: cd_values {cd_values}, expected one value (the level)")
        return cls(cd_values[0])

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        if self.level == 0:
            return zlib.compress(chunk, 0)
        return _compress_function(self.backend)(chunk, self.level)

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """One zlib stream made of slices compressed at once (see the module docstring)."""
        backend = self.backend_in_use
        view = memoryview(chunk).cast("B")
        min_part = SPLIT_MIN_PART_BYTES.get(backend)
        count = 1 if min_part is None or self.level == 0 else splitter.parts(view.nbytes, min_part)
        if count < 2:
            return self.encode(chunk, element_size)
        step = -(-view.nbytes // count)
        pieces = [
            (view[s : s + step], s + step >= view.nbytes) for s in range(0, view.nbytes, step)
        ]
        results = splitter.map(functools.partial(_raw_slice, backend, self.level), pieces)
        checksum = results[0][1]
        for (_, adler), (data, _) in zip(results[1:], pieces[1:], strict=True):
            checksum = adler32_combine(checksum, adler, data.nbytes)
        packed = (part for part, _ in results)
        return b"".join((zlib_header(self.level), *packed, checksum.to_bytes(4, "big")))

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        return inflate(chunk, limit)


def inflate(chunk: BytesLike, limit: int | None) -> bytes:
    """The zlib stream ``chunk`` inflated, never to more than ``limit`` bytes.

    A bounded decompressor stops at ``limit + 1`` bytes, so a bomb (a small stream that inflates
    to gigabytes) costs no more memory than the chunk it claims to be. ISA-L's inflater when
    ``isal`` is installed (about 3x stdlib zlib on detector chunks, the same bytes out).
    """
    nbytes = memoryview(chunk).nbytes
    module, errors = _inflater()
    inflater = module.decompressobj()
    try:
        out: bytes = inflater.decompress(chunk, 0 if limit is None else limit + 1)
        if limit is None:
            out += inflater.flush()
    except errors as exc:
        raise FilterError(f"deflate: {nbytes}-byte chunk is not a zlib stream: {exc}") from exc
    if limit is not None and len(out) > limit:
        raise FilterError(
            f"deflate: {nbytes}-byte chunk inflates to more than the {limit} bytes it may hold"
        )
    if not inflater.eof:
        raise FilterError(f"deflate: {nbytes}-byte chunk ends inside its zlib stream")
    return out
