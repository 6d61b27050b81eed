"""Datasets written whole, in one call: metadata such as a detector distance, a pixel mask, a
start time (``write_dataset``, ``write_string_dataset``).

Their data never changes, so they need no chunk index and no header rewritten in place: small
data lives in the header (compact layout), larger data in one contiguous block, compressed data
in one chunk (a single-chunk index, what libhdf5 picks when the chunk is the whole dataset). The
header is encoded anew, at a fresh address, whenever the structure is published with new
attributes or links, exactly as groups are, so a reader holding the old header keeps a valid one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from h5swmr.errors import H5SwmrError, InvalidArgumentError, InvalidDtypeError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import UNDEFINED_ADDRESS, ChunkIndexType
from h5swmr.format.messages.base import Message
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.format.messages.fill_value import AllocTime, FillValueMessage
from h5swmr.format.messages.layout import (
    CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER,
    ChunkedLayoutMessage,
    CompactLayoutMessage,
    ContiguousLayoutMessage,
)
from h5swmr.format.object_header import ObjectHeader, RawMessage
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write
from h5swmr.writer.attributes import encode_strings, variable_length_strings
from h5swmr.writer.headers import raw_messages, static_header
from h5swmr.writer.heap import GlobalHeapWriter
from h5swmr.writer.tree import Node

COMPACT_MAX_NBYTES = 4096
"""Data up to this size goes in the header (compact layout): a reader gets it with the header,
in one read. libhdf5 allows compact data up to 64 KiB, and h5py never picks it by itself; a
larger header would only be read, and rewritten at each publish, for nothing."""
STATIC_DTYPE_KINDS = "biufcS"
MAX_CHUNK_NBYTES = 1 << 32
MAX_STRINGS = 1 << 24


@dataclass(eq=False, slots=True)
class StaticDatasetNode(Node):
    """A dataset written whole: the messages of its header that never change. ``reopened``: one
    found by open_append (written before, by h5swmr or not), which takes attributes and links
    but is no dataset of this session's."""

    messages: tuple[RawMessage, ...] = ()
    reopened: bool = False

    @property
    def is_changed(self) -> bool:
        """Whether its header must be written (again) at the next publish."""
        return (
            self.address == UNDEFINED_ADDRESS
            or self.attributes_changed
            or self.link_count != self.published_link_count
        )

    def header(self) -> ObjectHeader:
        return static_header(self.messages, self)


def numeric_array(data: object, where: str) -> np.ndarray:
    """``data`` as a C-contiguous array of a type HDF5 and h5swmr share, in its byte order."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise InvalidDtypeError(f"{where}: {type(data).__name__} is not array-like") from exc
    if array.dtype.kind not in STATIC_DTYPE_KINDS or array.dtype.fields is not None:
        raise InvalidDtypeError(
            f"{where}: dtype {array.dtype} is not supported: use bool, (u)int8-64, "
            "float16/32/64, complex64/128 or fixed-length bytes (write_string_dataset for text)"
        )
    if array.dtype.kind in "iu" and not isinstance(data, np.ndarray | np.generic):
        array = array.astype(np.int64)  # a Python int: int64, as h5py stores it
    if array.dtype.kind == "S" and array.dtype.itemsize == 0:
        raise InvalidDtypeError(f"{where}: zero-length byte strings")
    # the byte order asked for is kept, as h5py keeps it (ascontiguousarray would make a
    # scalar 1-d)
    return np.require(array, requirements="C")


@dataclass(frozen=True, slots=True)
class StaticData:
    """What a new static dataset needs: its header messages and the writes of its data."""

    messages: tuple[RawMessage, ...]
    writes: tuple[Write, ...]


def build_numeric(
    array: np.ndarray,
    where: str,
    allocator: EofAllocator,
    pipeline: FilterPipeline | None,
) -> StaticData:
    """Messages and data writes for ``array``; raises before allocating anything."""
    try:
        datatype = DatatypeMessage.from_numpy(array.dtype)
    except H5SwmrError as exc:
        raise InvalidDtypeError(f"{where}: {exc}") from exc
    return _build(array.shape, datatype, array.tobytes(), where, allocator, pipeline=pipeline)


def build_strings(
    strings: object, where: str, allocator: EofAllocator, heap: GlobalHeapWriter
) -> StaticData:
    """Messages and data writes for variable-length UTF-8 strings: a ``str`` (scalar), or a
    list, tuple or numpy array of ``str``/``bytes`` of any shape."""
    if isinstance(strings, str | bytes):
        shape: tuple[int, ...] = ()
        flat: list[str | bytes] = [strings]
    else:
        try:
            array = np.asarray(strings, dtype=object)
        except (TypeError, ValueError) as exc:
            raise InvalidDtypeError(f"{where}: strings must be a str or a sequence of str") from exc
        shape = array.shape
        flat = list(array.reshape(-1))
        if len(flat) > MAX_STRINGS:
            raise InvalidArgumentError(f"{where}: {len(flat)} strings; at most {MAX_STRINGS}")
        bad = next((s for s in flat if not isinstance(s, str | bytes)), None)
        if bad is not None:
            raise InvalidDtypeError(
                f"{where}: every element must be a str (or bytes), not {type(bad).__name__}"
            )
    encoded, _ = encode_strings(flat, where)
    datatype, data = variable_length_strings(encoded, True, heap)
    return _build(shape, datatype, data, where, allocator, pipeline=None)


def _build(
    shape: tuple[int, ...],
    datatype: DatatypeMessage,
    data: bytes,
    where: str,
    allocator: EofAllocator,
    *,
    pipeline: FilterPipeline | None,
) -> StaticData:
    dataspace = DataspaceMessage(shape)
    nbytes = len(data)
    if pipeline is not None:
        if not shape or nbytes == 0:
            raise InvalidArgumentError(
                f"{where}: a scalar or empty dataset cannot be compressed (HDF5 filters work "
                "on chunks, and it has none)"
            )
        itemsize = datatype.element_size
        if nbytes >= MAX_CHUNK_NBYTES:
            raise InvalidArgumentError(
                f"{where}: {nbytes} bytes compress as one chunk, and HDF5 chunks must be "
                "< 4 GiB; write it uncompressed"
            )
        pipeline = pipeline.for_chunk(itemsize, nbytes)
        description = pipeline.describe(itemsize)
        chunk, mask = pipeline.encode(data, itemsize)
        address = allocator.allocate(len(chunk))
        layout: Message = ChunkedLayoutMessage(
            chunk_dims=shape,
            element_size=itemsize,
            index_type=ChunkIndexType.SINGLE_CHUNK,
            index_address=address,
            flags=CHUNK_FLAG_SINGLE_INDEX_WITH_FILTER,
            single_chunk_size=len(chunk),
            single_chunk_filter_mask=mask,
        )
        fill = FillValueMessage(AllocTime.INCREMENTAL)
        chunked: tuple[Message, ...] = (dataspace, datatype, fill, description, layout)
        return StaticData(raw_messages(*chunked), ((address, chunk),))
    if nbytes <= COMPACT_MAX_NBYTES:
        fill = FillValueMessage(AllocTime.EARLY)
        compact: tuple[Message, ...] = (dataspace, datatype, fill, CompactLayoutMessage(data))
        return StaticData(raw_messages(*compact), ())
    address = allocator.allocate(nbytes)
    fill = FillValueMessage(AllocTime.LATE)
    messages = (dataspace, datatype, fill, ContiguousLayoutMessage(address, nbytes))
    return StaticData(raw_messages(*messages), ((address, data),))
