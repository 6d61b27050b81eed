"""One dataset as its object header describes it at one moment: shape, type, layout, filters."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from h5swmr.access.chunk_index import ChunkIndex, open_chunk_index
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import MessageType
from h5swmr.format.cursor import ByteCursor
from h5swmr.format.global_heap import VariableLengthReference
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import (
    DatatypeMessage,
    StringCharset,
    StringType,
    VariableLengthStringType,
)
from h5swmr.format.messages.fill_value import FillValueMessage
from h5swmr.format.messages.filter_pipeline import FilterPipelineMessage
from h5swmr.format.messages.layout import (
    ChunkedLayoutMessage,
    LayoutMessage,
    decode_layout,
)
from h5swmr.format.messages.virtual_layout import VirtualLayoutMessage, is_virtual_layout
from h5swmr.format.object_header import RawMessage, find_message


@dataclass(frozen=True, slots=True)
class DatasetState:
    """A snapshot of one dataset: what ``refresh`` re-reads, and its chunk index. A virtual
    dataset's ``dims`` are those its mappings give it (reader/virtual.py), not the stored ones."""

    address: int
    dims: tuple[int, ...]
    maxdims: tuple[int, ...]
    dtype: np.dtype[np.generic]
    layout: LayoutMessage | VirtualLayoutMessage
    pipeline: FilterPipeline | None
    fill: bytes
    index: ChunkIndex | None
    strings: StringCharset | None = None
    """Variable-length strings in this charset: ``dtype`` is then the raw 16-byte reference
    each element holds (``reader/global_heap.py`` resolves them)."""
    text: StringCharset | None = None
    """Fixed-length strings (``dtype`` ``S<n>``) in this charset: what ``asstr()`` decodes."""

    @property
    def chunks(self) -> tuple[int, ...] | None:
        return self.layout.chunk_dims if isinstance(self.layout, ChunkedLayoutMessage) else None

    @property
    def nbytes(self) -> int:
        return math.prod(self.dims) * self.dtype.itemsize

    @property
    def is_virtual(self) -> bool:
        return isinstance(self.layout, VirtualLayoutMessage)

    @property
    def fill_value(self) -> np.generic:
        value: np.generic = np.frombuffer(self.fill, self.dtype, count=1)[0]
        return value


def is_dataset(messages: tuple[RawMessage, ...]) -> bool:
    return find_message(messages, MessageType.LAYOUT) is not None


def _required(messages: tuple[RawMessage, ...], kind: MessageType, address: int) -> RawMessage:
    message = find_message(messages, kind)
    if message is None:
        raise FormatError(
            f"dataset at address {address}: no {kind.name.lower()} message", address=address
        )
    return message


def fill_bytes(messages: tuple[RawMessage, ...], itemsize: int) -> bytes:
    """The fill value of one element: the stored one, else zeros (libhdf5's default)."""
    value = None
    new = find_message(messages, MessageType.FILL_VALUE)
    if new is not None:
        value = FillValueMessage.decode(new.body).value
    else:
        old = find_message(messages, MessageType.FILL_VALUE_OLD)
        if old is not None:
            cur = ByteCursor(old.body, "old fill value message")
            value = cur.read(cur.u32()) or None
    if value is None:
        return bytes(itemsize)
    if len(value) != itemsize:
        raise FormatError(f"fill value of {len(value)} bytes for {itemsize}-byte elements")
    return value


def load_dataset(src: FileSource, address: int, messages: tuple[RawMessage, ...]) -> DatasetState:
    """Decode a dataset's header messages and open its chunk index (one consistent snapshot)."""
    space = DataspaceMessage.decode(_required(messages, MessageType.DATASPACE, address).body)
    datatype = DatatypeMessage.decode(_required(messages, MessageType.DATATYPE, address).body)
    strings = None
    if isinstance(datatype.datatype, VariableLengthStringType):
        strings = datatype.datatype.charset
        dtype: np.dtype[np.generic] = np.dtype(f"V{VariableLengthReference.SIZE}")
    else:
        dtype = datatype.to_numpy()
    if dtype.itemsize == 0:
        raise UnsupportedError(f"dataset at address {address}: zero-size datatype")
    layout_body = _required(messages, MessageType.LAYOUT, address).body
    layout: LayoutMessage | VirtualLayoutMessage
    if is_virtual_layout(layout_body):
        layout = VirtualLayoutMessage.decode(layout_body)
    else:
        layout = decode_layout(layout_body)
    pipeline_msg = find_message(messages, MessageType.FILTER_PIPELINE)
    pipeline = None
    if pipeline_msg is not None:
        pipeline = FilterPipeline.from_message(FilterPipelineMessage.decode(pipeline_msg.body))
        if not pipeline.filters:
            pipeline = None
    dims = space.dims
    maxdims = space.maxdims if space.maxdims is not None else dims
    index = None
    if isinstance(layout, ChunkedLayoutMessage):
        if layout.element_size != dtype.itemsize:
            raise FormatError(
                f"dataset at address {address}: chunk element size {layout.element_size}, "
                f"datatype size {dtype.itemsize}"
            )
        index = open_chunk_index(src, layout, dims, maxdims, filtered=pipeline is not None)
    fill = fill_bytes(messages, dtype.itemsize)
    text = datatype.datatype.charset if isinstance(datatype.datatype, StringType) else None
    return DatasetState(address, dims, maxdims, dtype, layout, pipeline, fill, index, strings, text)
