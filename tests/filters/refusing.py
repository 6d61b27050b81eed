"""A filter that cannot encode anything, as a codec refusing a chunk would: optional (the
pipeline skips it and sets its mask bit) or mandatory (the pipeline raises FilterError)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FilterError
from h5swmr.filters.base import Filter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike


@dataclass(frozen=True, slots=True)
class RefusingFilter(Filter):
    """A test filter that cannot encode anything (as a codec refusing a chunk would)."""

    filter_id: ClassVar[FilterId] = FilterId.SZIP
    mandatory: bool = False

    @property
    def optional(self) -> bool:  # type: ignore[override]
        return not self.mandatory

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return ()

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        return cls()

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        raise FilterError("refusing filter: cannot encode this chunk")

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        raise AssertionError("a skipped filter must not decode")
