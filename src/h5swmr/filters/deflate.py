"""Deflate, filter id 1 (libhdf5 H5Zdeflate.c): one zlib stream per chunk, as compress2 makes."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FilterError
from h5swmr.filters.base import Filter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

MIN_LEVEL = 0
MAX_LEVEL = 9


@dataclass(frozen=True, slots=True)
class DeflateFilter(Filter):
    """zlib (RFC 1950) compression at ``level`` 0..9; cd_values ``(level,)``.

    Stdlib ``zlib`` releases the GIL while it compresses, so chunks encode in parallel on threads.
    """

    filter_id: ClassVar[FilterId] = FilterId.DEFLATE

    level: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or not isinstance(self.level, int):
            raise FilterError(
                f"deflate level {self.level!r}: expected an int {MIN_LEVEL}..{MAX_LEVEL}"
            )
        if not MIN_LEVEL <= self.level <= MAX_LEVEL:
            raise FilterError(f"deflate level {self.level} outside {MIN_LEVEL}..{MAX_LEVEL}")

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return (self.level,)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) != 1:
            raise FilterError(f"deflate: cd_values {cd_values}, expected one value (the level)")
        return cls(cd_values[0])

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        return zlib.compress(chunk, self.level)

    def decode(self, chunk: BytesLike, element_size: int) -> bytes:
        try:
            return zlib.decompress(chunk)
        except zlib.error as exc:
            raise FilterError(
                f"deflate: {memoryview(chunk).nbytes}-byte chunk is not a zlib stream: {exc}"
            ) from exc
