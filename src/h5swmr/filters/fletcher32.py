"""Fletcher-32, filter id 3 (libhdf5 H5Zfletcher32.c, H5checksum.c): data + 4-byte checksum."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from h5swmr.errors import FilterError
from h5swmr.filters.base import Filter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

_CHECKSUM = struct.Struct("<I")
_MODULUS = 0xFFFF
_ROW = 4096
"""Words per row of the vectorised sum: row sums stay far below 2**63 in int64."""
_ROW_WEIGHTS = np.arange(_ROW, 0, -1, dtype=np.int64)


def fletcher32(data: BytesLike) -> int:
    """HDF5's Fletcher-32 (``H5_checksum_fletcher32``) of ``data``, vectorised with numpy.

    libhdf5 sums big-endian 16-bit words (an odd last byte is the high byte of a last word) into
    ``sum1`` and ``sum2`` starting at 0, folding both with ``(x & 0xffff) + (x >> 16)`` every 360
    words and twice at the end. A fold keeps the value modulo 65535 and is zero only for zero, and
    nothing overflows, so each result is the exact sum modulo 65535, except that a non-zero sum
    divisible by 65535 gives 0xffff rather than 0. The exact sums are
    ``sum1 = sum(w[k])`` and ``sum2 = sum((n - k) * w[k])`` over the ``n`` words.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    n_even = raw.size // 2
    n_words = n_even + raw.size % 2
    if n_words == 0:
        return 0
    rows = -(-n_words // _ROW)
    # Zeros in front change neither sum: the weight of a word is the number of words from it on.
    words = np.zeros(rows * _ROW, dtype=np.int64)
    start = words.size - n_words
    words[start : start + n_even] = raw[: 2 * n_even].view(">u2")
    if raw.size % 2:
        words[-1] = int(raw[-1]) << 8
    matrix = words.reshape(rows, _ROW)
    row_sums = matrix.sum(axis=1)
    if not row_sums.any():
        return 0
    row_weighted = (matrix @ _ROW_WEIGHTS) % _MODULUS
    rows_after = (np.arange(rows - 1, -1, -1, dtype=np.int64) * _ROW) % _MODULUS
    row_sums %= _MODULUS
    sum1 = int(row_sums.sum()) % _MODULUS or _MODULUS
    sum2 = (int(row_weighted.sum()) + int((row_sums * rows_after).sum())) % _MODULUS or _MODULUS
    return (sum2 << 16) | sum1


def _reversed(checksum: int) -> int:
    """The value libhdf5 before 1.6.3 stored: the bytes of each 16-bit half swapped."""
    return ((checksum & 0x00FF00FF) << 8) | ((checksum >> 8) & 0x00FF00FF)


@dataclass(frozen=True, slots=True)
class Fletcher32Filter(Filter):
    """Appends HDF5's Fletcher-32 of the chunk as a little-endian u32; mandatory, no cd_values.

    Decoding verifies and strips it, accepting the byte-reversed legacy value as libhdf5 does.
    """

    filter_id: ClassVar[FilterId] = FilterId.FLETCHER32
    optional: ClassVar[bool] = False

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return ()

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        return cls()  # libhdf5 ignores any client data of this filter

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        return b"".join((chunk, _CHECKSUM.pack(fletcher32(chunk))))

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        view = memoryview(chunk).cast("B")
        size = view.nbytes - _CHECKSUM.size
        if size < 0:
            raise FilterError(f"fletcher32: {view.nbytes}-byte chunk is shorter than its checksum")
        (stored,) = _CHECKSUM.unpack(view[size:])
        computed = fletcher32(view[:size])
        if stored not in (computed, _reversed(computed)):
            raise FilterError(
                f"fletcher32: {size}-byte chunk, stored checksum {stored:#010x}"
                f" but the data give {computed:#010x}"
            )
        return bytes(view[:size])
