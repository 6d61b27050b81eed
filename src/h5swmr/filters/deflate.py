"""Deflate, filter id 1 (libhdf5 H5Zdeflate.c): one zlib stream per chunk, as compress2 makes.

Chunks are compressed by one of three backends, all writing a standard zlib (RFC 1950) stream
that libhdf5 inflates:

- ``"isal"``: Intel ISA-L through the ``isal`` package (``isal.isal_zlib``), the fastest by far
  (about 7x stdlib zlib at level 4 on detector frames; the stream is ~14% larger unshuffled,
  within 1% after shuffle). ISA-L has four levels; zlib levels 1-3, 4-6 and 7-9 map to ISA-L 1,
  2 and 3.
- ``"libdeflate"``: libdeflate through the ``deflate`` package (about 2x stdlib zlib at level 4,
  same level numbers).
- ``"zlib"``: the standard library, byte for byte what libhdf5 itself writes.

``"auto"`` (the default) takes the first one installed in that order; ``pip install
"h5swmr[fast]"`` brings ``isal``. The environment variable ``H5SWMR_DEFLATE_BACKEND`` overrides
what ``"auto"`` picks (for example ``zlib`` to get libhdf5's exact bytes); it is read once, when
the first deflate filter is made (``forget_backend_choice`` reads it again). Level 0 always stores
uncompressed blocks with stdlib zlib, as libhdf5 does. Every backend releases the GIL, so chunks
compress in parallel on the writer's filter threads. Decoding always uses stdlib zlib.
"""

from __future__ import annotations

import functools
import importlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Final, Self

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.base import Filter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

MIN_LEVEL = 0
MAX_LEVEL = 9
BACKENDS: Final = ("isal", "libdeflate", "zlib")
"""Deflate implementations in the order ``"auto"`` tries them."""
BACKEND_ENVIRONMENT_VARIABLE: Final = "H5SWMR_DEFLATE_BACKEND"
_MODULES: Final = {"isal": "isal.isal_zlib", "libdeflate": "deflate", "zlib": "zlib"}
_ISAL_LEVELS: Final = (0, 1, 1, 1, 2, 2, 2, 3, 3, 3)  # index: zlib level (0 is never used)

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
    if backend not in BACKENDS:
        choices = ", ".join(("auto", *BACKENDS))
        raise FilterError(f"deflate backend {backend!r}: use one of {choices}")
    _compressor(backend)  # fails early when it is not installed
    return backend


@functools.cache
def _compress_function(backend: str) -> Compress:
    return _compressor(resolve_backend(backend))


def forget_backend_choice() -> None:
    """Resolve ``"auto"`` and the environment variable anew at the next use (they are read once,
    at the first deflate filter made)."""
    resolve_backend.cache_clear()
    _compress_function.cache_clear()


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

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        return inflate(chunk, limit)


def inflate(chunk: BytesLike, limit: int | None) -> bytes:
    """The zlib stream ``chunk`` inflated, never to more than ``limit`` bytes.

    A bounded decompressor stops at ``limit + 1`` bytes, so a bomb (a small stream that inflates
    to gigabytes) costs no more memory than the chunk it claims to be.
    """
    nbytes = memoryview(chunk).nbytes
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(chunk, 0 if limit is None else limit + 1)
        if limit is None:
            out += inflater.flush()
    except zlib.error as exc:
        raise FilterError(f"deflate: {nbytes}-byte chunk is not a zlib stream: {exc}") from exc
    if limit is not None and len(out) > limit:
        raise FilterError(
            f"deflate: {nbytes}-byte chunk inflates to more than the {limit} bytes it may hold"
        )
    if not inflater.eof:
        raise FilterError(f"deflate: {nbytes}-byte chunk ends inside its zlib stream")
    return out
