"""The contract of a chunk filter: HDF5's filter id and client data, and bytes in, bytes out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

from h5swmr.filters.split import ChunkSplitter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike
from h5swmr.format.messages.filter_pipeline import FLAG_OPTIONAL, FilterDescription


class Filter(ABC):
    """One stage of a filter pipeline.

    The stored ``cd_values`` are what libhdf5 (or the hdf5plugin filter) would store after its
    ``set_local`` callback, so they may depend on the element size of the dataset.
    """

    __slots__ = ()

    filter_id: ClassVar[FilterId]
    optional: ClassVar[bool] = True
    name: ClassVar[str] = ""
    """Name stored in the pipeline message; libhdf5's own filters (id < 256) store none."""

    @abstractmethod
    def cd_values(self, element_size: int) -> tuple[int, ...]:
        """Client data as stored in the file for a dataset of ``element_size``-byte elements."""

    @classmethod
    @abstractmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        """The filter described by stored client data (the reader's way back)."""

    @abstractmethod
    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        """Filter one chunk on its way to disk."""

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """``encode``, with a large chunk cut into parts that ``splitter`` runs on several threads.

        The stored bytes still decode with the filter's usual reader. Filters whose format
        cannot be split (or that bring their own threads) keep this default: ``encode`` as is.
        """
        return self.encode(chunk, element_size)

    @abstractmethod
    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        """Undo ``encode`` on a chunk read from disk.

        ``limit`` bounds the bytes the result may have: a filter whose output can grow (a
        decompressor) raises FilterError before allocating more, since the stored header or
        stream comes from a file that may be hostile (a decompression bomb).
        """

    def describe(self, element_size: int) -> FilterDescription:
        flags = FLAG_OPTIONAL if self.optional else 0
        return FilterDescription(self.filter_id, flags, self.name, self.cd_values(element_size))
