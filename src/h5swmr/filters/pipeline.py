"""FilterPipeline: the ordered filters every chunk of a dataset goes through; the filter mask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, Self

from h5swmr.errors import FilterError
from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleCompression, BitshuffleFilter
from h5swmr.filters.blosc import BloscCompressor, BloscFilter, BloscShuffle
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.lz4 import DEFAULT_BLOCK_SIZE as DEFAULT_LZ4_BLOCK_SIZE
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.registry import filter_from_description
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import ZstdFilter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike
from h5swmr.format.messages.filter_pipeline import FilterPipelineMessage

MAX_FILTERS: Final = 32
"""libhdf5's H5Z_MAX_NFILTERS: the filter mask has one bit per filter."""

_MAX_MASK: Final = 0xFFFF_FFFF
INTERMEDIATE_SLACK: Final = 1 << 16
_NOT_COMPRESSION: Final = frozenset({FilterId.SHUFFLE, FilterId.FLETCHER32})
_H5PY_NAMES: Final = {FilterId.DEFLATE: "gzip"}
_BLOSC_SHUFFLES: Final = {
    "none": BloscShuffle.NONE,
    "byte": BloscShuffle.BYTE,
    "bit": BloscShuffle.BIT,
}

BloscName = Literal["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"]
BloscShuffleName = Literal["none", "byte", "bit"]


def intermediate_limit(expected: int) -> int:
    """Most bytes a stage inside a pipeline may decode to (or a stored chunk may have) for a
    chunk of ``expected`` bytes: every filter's output on the way to disk stays well within it
    (a compressor's worst case adds well under 1%, fletcher32 four bytes)."""
    return 2 * expected + INTERMEDIATE_SLACK


class FilterPipeline:
    """Filters applied to each chunk in order on write, and in reverse order on read.

    >>> FilterPipeline.shuffle_deflate(4)
    FilterPipeline([ShuffleFilter(), DeflateFilter(level=4)])
    >>> FilterPipeline.deflate(6).with_fletcher32().compression_opts
    6

    Immutable and thread-safe: one pipeline encodes many chunks at once on the writer's executor.
    """

    __slots__ = ("_filters",)

    _filters: tuple[Filter, ...]

    def __init__(self, filters: Sequence[Filter]) -> None:
        if isinstance(filters, Filter) or not isinstance(filters, Sequence):
            raise FilterError(f"filter pipeline: {filters!r} is not a sequence of Filters")
        items = tuple(filters)
        if not items:
            raise FilterError("filter pipeline: no filters; use None for unfiltered chunks")
        for position, item in enumerate(items):
            if not isinstance(item, Filter):
                raise FilterError(
                    f"filter pipeline: item {position} is {item!r}, not a Filter"
                    " (e.g. DeflateFilter(4))"
                )
        if len(items) > MAX_FILTERS:
            raise FilterError(f"filter pipeline: {len(items)} filters, at most {MAX_FILTERS}")
        seen: dict[int, int] = {}
        for position, item in enumerate(items):
            if item.filter_id in seen:
                raise FilterError(
                    f"filter pipeline: {item!r} at position {position} repeats filter id"
                    f" {int(item.filter_id)} (already at position {seen[item.filter_id]})"
                )
            seen[item.filter_id] = position
        self._filters = items

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def deflate(cls, level: int = 4) -> Self:
        """zlib at ``level`` 0..9 (h5py ``compression="gzip"``)."""
        return cls([DeflateFilter(level)])

    @classmethod
    def shuffle_deflate(cls, level: int = 4) -> Self:
        """Byte shuffle, then zlib (h5py ``shuffle=True, compression="gzip"``)."""
        return cls([ShuffleFilter(), DeflateFilter(level)])

    @classmethod
    def shuffle_only(cls) -> Self:
        """Byte shuffle alone; chain ``with_*`` to add more."""
        return cls([ShuffleFilter()])

    @classmethod
    def fletcher32_only(cls) -> Self:
        """Fletcher-32 checksum alone; chain ``with_*`` to add more."""
        return cls([Fletcher32Filter()])

    @classmethod
    def lz4(cls, block_size: int = DEFAULT_LZ4_BLOCK_SIZE) -> Self:
        """LZ4, filter 32004, in blocks of ``block_size`` bytes: 256 KiB by default, so a large
        chunk is split across the filter threads; 0 is hdf5plugin's default and exact bytes,
        one block per chunk, on one thread."""
        return cls([LZ4Filter(block_size)])

    @classmethod
    def bitshuffle_lz4(cls, block_size: int = 0) -> Self:
        """Bitshuffle with LZ4, filter 32008, in blocks of ``block_size`` elements (0: ~8 KiB)."""
        return cls([BitshuffleFilter(block_size, BitshuffleCompression.LZ4)])

    @classmethod
    def bitshuffle_zstd(cls, level: int = 3, block_size: int = 0) -> Self:
        """Bitshuffle with zstd at ``level`` 0..22, filter 32008."""
        return cls([BitshuffleFilter(block_size, BitshuffleCompression.ZSTD, level)])

    @classmethod
    def zstd(cls, level: int = 3) -> Self:
        """Zstandard, filter 32015, at ``level`` -131072..22."""
        return cls([ZstdFilter(level)])

    @classmethod
    def blosc(
        cls, cname: BloscName = "lz4", clevel: int = 5, shuffle: BloscShuffleName = "byte"
    ) -> Self:
        """Blosc 1, filter 32001: ``cname`` at ``clevel`` 0..9 after a byte, bit or no shuffle."""
        try:
            compressor = BloscCompressor[str(cname).upper()]
        except KeyError:
            names = ", ".join(c.name.lower() for c in BloscCompressor)
            raise FilterError(f"blosc cname {cname!r}: expected one of {names}") from None
        if shuffle not in _BLOSC_SHUFFLES:
            raise FilterError(f"blosc shuffle {shuffle!r}: expected 'byte', 'bit' or 'none'")
        return cls([BloscFilter(compressor, clevel, _BLOSC_SHUFFLES[shuffle])])

    @classmethod
    def from_message(cls, message: FilterPipelineMessage) -> Self:
        """The pipeline a stored filter pipeline message describes.

        Raises FilterUnavailableError naming the id of a filter h5swmr does not implement.
        """
        return cls([filter_from_description(d) for d in message.filters])

    def with_filter(self, item: Filter) -> Self:
        """A copy with ``item`` appended (it runs last on write, first on read)."""
        return type(self)([*self._filters, item])

    def with_shuffle(self) -> Self:
        return self.with_filter(ShuffleFilter())

    def with_deflate(self, level: int = 4) -> Self:
        return self.with_filter(DeflateFilter(level))

    def with_fletcher32(self) -> Self:
        return self.with_filter(Fletcher32Filter())

    # -- what it is -------------------------------------------------------------------------

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self._filters

    def describe(self, element_size: int, chunk_bytes: int | None = None) -> FilterPipelineMessage:
        """The filter pipeline message stored for a dataset of ``element_size``-byte elements.

        Give ``chunk_bytes`` (the unfiltered size of one chunk) too: blosc's set_local stores it.
        """
        pipeline = self if chunk_bytes is None else self.for_chunk(element_size, chunk_bytes)
        return FilterPipelineMessage(tuple(f.describe(element_size) for f in pipeline._filters))

    def for_chunk(self, element_size: int, chunk_bytes: int) -> Self:
        """A copy whose cd_values that depend on the chunk size (blosc's) are filled in."""
        return type(self)(
            [
                f.with_chunk_size(element_size, chunk_bytes) if isinstance(f, BloscFilter) else f
                for f in self._filters
            ]
        )

    def declared_size(self, chunk: BytesLike) -> int | None:
        """The unfiltered size a stored chunk declares in its header, without decoding it.

        Read from the last filter (the first to decode) when its format records the size
        (LZ4, bitshuffle with LZ4 or zstd, blosc, a zstd frame with a content size); else None.
        Raises FilterError if the header is malformed.
        """
        last = self._filters[-1]
        if isinstance(last, LZ4Filter | BitshuffleFilter | BloscFilter | ZstdFilter):
            return last.declared_size(chunk)
        return None

    @property
    def compression(self) -> str | None:
        """h5py's name of the first compressing filter ("gzip" for deflate), or None."""
        for item in self._filters:
            if item.filter_id not in _NOT_COMPRESSION:
                return _H5PY_NAMES.get(item.filter_id, FilterId(item.filter_id).name.lower())
        return None

    @property
    def compression_opts(self) -> int | None:
        """The deflate level when deflate compresses (as h5py reports it), else None."""
        for item in self._filters:
            if isinstance(item, DeflateFilter):
                return item.level
            if item.filter_id not in _NOT_COMPRESSION:
                return None
        return None

    @property
    def shuffle(self) -> bool:
        return any(isinstance(f, ShuffleFilter) for f in self._filters)

    @property
    def fletcher32(self) -> bool:
        return any(isinstance(f, Fletcher32Filter) for f in self._filters)

    # -- running it -------------------------------------------------------------------------

    def encode(
        self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter | None = None
    ) -> tuple[bytes, int]:
        """Run every filter in order; returns the stored bytes and the chunk's filter mask.

        As in libhdf5 (H5Z_pipeline), an optional filter that cannot encode the chunk is
        skipped and its bit set in the mask; a mandatory one raises FilterError. With a
        ``splitter``, filters that can cut a large chunk into parts compress them on its threads.
        """
        data: BytesLike = chunk
        mask = 0
        for position, item in enumerate(self._filters):
            try:
                if splitter is None:
                    data = item.encode(data, element_size)
                else:
                    data = item.encode_split(data, element_size, splitter)
            except FilterError:
                if not item.optional:
                    raise
                mask |= 1 << position
        return bytes(data), mask

    def decode(
        self,
        chunk: BytesLike,
        element_size: int,
        filter_mask: int = 0,
        expected: int | None = None,
    ) -> bytes:
        """Undo ``encode``: filters in reverse order, skipping those whose mask bit is set.

        Given ``expected`` (the chunk's unfiltered size), the result must have exactly that
        many bytes, and no filter may produce more than ``intermediate_limit(expected)`` on the
        way: a hostile chunk fails with FilterError before it can exhaust memory.
        """
        if not 0 <= filter_mask <= _MAX_MASK:
            raise FilterError(f"filter mask {filter_mask} outside 0..{_MAX_MASK:#x}")
        active = [p for p in range(len(self._filters)) if not filter_mask >> p & 1]
        data: BytesLike = chunk
        for position in reversed(active):
            limit = None
            if expected is not None:
                limit = expected if position == active[0] else intermediate_limit(expected)
            data = self._filters[position].decode(data, element_size, limit)
        out = bytes(data)
        if expected is not None and len(out) != expected:
            raise FilterError(f"chunk decodes to {len(out)} bytes, expected {expected}")
        return out

    # -- value semantics --------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilterPipeline):
            return NotImplemented
        return self._filters == other._filters

    def __hash__(self) -> int:
        return hash(self._filters)

    def __repr__(self) -> str:
        return f"{type(self).__name__}([{', '.join(repr(f) for f in self._filters)}])"
