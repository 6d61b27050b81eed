"""Shuffle, filter id 2 (libhdf5 H5Zshuffle.c): a byte transpose grouping byte j of each element."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from h5swmr.errors import FilterError
from h5swmr.filters.base import Filter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike


def _check_element_size(element_size: int) -> None:
    if isinstance(element_size, bool) or not isinstance(element_size, int) or element_size < 1:
        raise FilterError(f"shuffle: element size {element_size!r}, expected an int >= 1")


@dataclass(frozen=True, slots=True)
class ShuffleFilter(Filter):
    """Byte shuffle; cd_values ``(element_size,)``, filled in from the dataset as set_local does.

    For ``n = nbytes // element_size`` elements, output byte ``j * n + i`` is input byte
    ``i * element_size + j``; the ``nbytes % element_size`` leftover bytes are copied at the end.
    Like libhdf5, 1-byte elements and chunks of fewer than two whole elements pass unchanged.
    """

    filter_id: ClassVar[FilterId] = FilterId.SHUFFLE

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        _check_element_size(element_size)
        return (element_size,)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) != 1 or cd_values[0] < 1:
            raise FilterError(f"shuffle: cd_values {cd_values}, expected (element size,)")
        return cls()

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        return _transpose(chunk, element_size, inverse=False)

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        return _transpose(chunk, element_size, inverse=True)


def _transpose(chunk: BytesLike, element_size: int, *, inverse: bool) -> bytes:
    _check_element_size(element_size)
    data = np.frombuffer(chunk, dtype=np.uint8)
    count = data.size // element_size
    if element_size == 1 or count <= 1:
        return bytes(chunk)
    body = count * element_size
    if inverse and element_size in _WORDS and sys.byteorder == "little":
        return _unshuffle_words(data, count, element_size)
    shape = (element_size, count) if inverse else (count, element_size)
    out = np.empty(data.size, dtype=np.uint8)
    out[:body].reshape(shape[::-1])[...] = data[:body].reshape(shape).T
    out[body:] = data[body:]
    return out.tobytes()


_WORDS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _unshuffle_words(data: np.ndarray, count: int, element_size: int) -> bytes:
    """The inverse transpose for 2, 4 and 8-byte elements as whole-word shifts and ors: each
    byte plane is read in order and widened, several times faster than numpy's strided byte
    copy (a reader's hot path for shuffled detector frames). Little-endian hosts only."""
    word = _WORDS[element_size]
    value = data[:count].astype(word)
    for j in range(1, element_size):
        value |= data[j * count : (j + 1) * count].astype(word) << word(8 * j)
    body = value.view(np.uint8)
    if data.size == count * element_size:
        return body.tobytes()
    return body.tobytes() + data[count * element_size :].tobytes()
