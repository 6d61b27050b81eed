"""Reopening a closed (or recovered) file: its groups, links and streaming datasets, to append.

Groups are rebuilt as the writer's tree, keeping messages h5swmr does not write itself (soft and
external links, attributes) verbatim. A dataset h5swmr can append to (chunked, extensible-array
index, first dimension unlimited, a header h5swmr can rewrite in place) becomes a
StreamingDataset again. Any other dataset whose header h5swmr can encode (version 2, no times,
attributes compact and untracked) becomes a StaticDatasetNode, as if write_dataset had made it:
a new attribute or link writes its header anew at a fresh address, with every group, at the next
publish (never in place: a reader that has the old header open keeps reading it whole, and one
that opens after the publish finds the new one through the new groups; the layout message, and
so the data it points at, is carried over as it is). Any other object is a KeptNode, kept as it
is and linked as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from h5swmr.access.extensible_array import ExtensibleArrayLookup
from h5swmr.access.object_headers import WalkedHeader, walk_object_header
from h5swmr.access.source import FileSource
from h5swmr.errors import FileLockedError, FilterUnavailableError, H5SwmrError, UnsupportedError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.chunk_records import ElementCodec
from h5swmr.format.constants import UNDEFINED_ADDRESS, UNLIMITED, ChunkIndexType, MessageType
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import DatatypeMessage, StringPadding, StringType
from h5swmr.format.messages.filter_pipeline import FilterPipelineMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.messages.reference_count import ReferenceCountMessage
from h5swmr.format.object_header import (
    ObjectHeader,
    ObjectHeaderFlags,
    RawMessage,
    find_message,
)
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.storage.allocator import EofAllocator
from h5swmr.writer.chunking import ChunkGrid
from h5swmr.writer.extensible_array_index import ExtensibleArrayIndex
from h5swmr.writer.static_dataset import StaticDatasetNode
from h5swmr.writer.streaming_dataset import STREAMING_DTYPE_KINDS, StreamingDataset
from h5swmr.writer.tree import DatasetNode, GroupNode, KeptNode, Node, Tree

_REWRITTEN = {MessageType.DATASPACE, MessageType.REFERENCE_COUNT, MessageType.NIL}
_GROUP_OWN = {
    MessageType.CONTINUATION,  # a rewritten group holds all its messages in one chunk
    MessageType.LINK_INFO,
    MessageType.GROUP_INFO,
    MessageType.REFERENCE_COUNT,
    MessageType.NIL,
}
_STATIC_OWN = {  # written anew by static_header: the link count and one chunk of messages
    MessageType.ATTRIBUTE,
    MessageType.CONTINUATION,
    MessageType.REFERENCE_COUNT,
    MessageType.NIL,
}
MAX_OBJECTS = 1_000_000


@dataclass
class ReopenedFile:
    superblock: Superblock
    tree: Tree
    datasets: list[StreamingDataset]
    static_datasets: list[StaticDatasetNode]


def reopen(src: FileSource, allocator: EofAllocator) -> ReopenedFile:
    """Read the structure of a closed file; ``allocator`` continues after its end."""
    path = src.path
    superblock = src.block(0, Superblock.SIZE, Superblock.decode, "superblock")
    if superblock.flags != ConsistencyFlags.NONE:
        raise FileLockedError(
            f"{path!r} is open for writing, or its writer crashed (flags "
            f"{int(superblock.flags):#04x}); if no writer is running, run h5swmr.recover() or "
            "`h5swmr recover` on it first"
        )
    allocator.eoa = superblock.eof_address
    walker = _Walker(src, allocator)
    root = walker.node("/", superblock.root_address)
    if not isinstance(root, GroupNode):
        raise UnsupportedError(f"{path!r}: the root object is not a group h5swmr can read")
    tree = Tree()
    root.link_count += 1  # the superblock points at it
    tree.root = root
    for node in walker.nodes.values():
        node.published_link_count = node.link_count
    return ReopenedFile(superblock, tree, walker.datasets, walker.static_datasets)


class _Walker:
    def __init__(self, src: FileSource, allocator: EofAllocator) -> None:
        self.src = src
        self.allocator = allocator
        self.nodes: dict[int, Node] = {}
        self.datasets: list[StreamingDataset] = []
        self.static_datasets: list[StaticDatasetNode] = []

    def node(self, path: str, address: int) -> Node:
        known = self.nodes.get(address)
        if known is not None:
            return known
        if len(self.nodes) >= MAX_OBJECTS:
            raise UnsupportedError(f"more than {MAX_OBJECTS} objects")
        walked = walk_object_header(self.src, address)
        messages = walked.messages
        if find_message(messages, MessageType.SYMBOL_TABLE) is not None:
            raise UnsupportedError(
                f"{path!r} is a group in libhdf5's default (v1.8) format; h5swmr appends to "
                "files in the latest format only"
            )
        if find_message(messages, MessageType.LINK_INFO) is not None:
            return self._group(path, address, messages)
        dataset = self._streaming_dataset(path, address, walked)
        node: Node
        if dataset is not None:
            node = dataset.node
            self.datasets.append(dataset)
        else:
            node = _static_dataset(path, address, walked)
            if isinstance(node, StaticDatasetNode):
                self.static_datasets.append(node)
        self.nodes[address] = node
        return node

    def _group(self, path: str, address: int, messages: tuple[RawMessage, ...]) -> GroupNode:
        link_info = LinkInfoMessage.decode(_body(messages, MessageType.LINK_INFO))
        if link_info.fractal_heap_address != UNDEFINED_ADDRESS:
            raise UnsupportedError(
                f"group {path!r} keeps its links in dense storage (a fractal heap), which h5swmr "
                "does not rewrite"
            )
        group = GroupNode(path, address)
        self.nodes[address] = group
        for raw in messages:
            if raw.type == MessageType.LINK:
                link = LinkMessage.decode(raw.body)
                if link.link_type == LinkType.HARD:
                    child = self.node(path.rstrip("/") + "/" + link.name, link.address)
                    group.links[link.name] = child
                    child.link_count += 1
                else:
                    group.extra_messages.append(raw)
            elif raw.type == MessageType.ATTRIBUTE and (named := _attributes_by_name((raw,))):
                group.attributes.update(named)
            elif raw.type not in _GROUP_OWN:
                group.extra_messages.append(raw)
        return group

    def _streaming_dataset(
        self,
        path: str,
        address: int,
        walked: WalkedHeader,
    ) -> StreamingDataset | None:
        """The dataset as a StreamingDataset, or None if h5swmr cannot append to it."""
        header, messages = walked.chunk0, walked.messages
        if header is None:
            return None  # a version 1 header: h5swmr rewrites only the version 2 it writes
        in_chunk0 = {m.type for m in header.messages}
        moved = {m.type for m in walked.continued}
        if (
            header.flags != ObjectHeader.WRITE_FLAGS
            or MessageType.DATASPACE not in in_chunk0
            or MessageType.REFERENCE_COUNT in moved
        ):
            return None  # a header h5swmr cannot rewrite in place: left as it is
        try:
            dataspace = DataspaceMessage.decode(_body(messages, MessageType.DATASPACE))
            layout = decode_layout(_body(messages, MessageType.LAYOUT))
            datatype = DatatypeMessage.decode(_body(messages, MessageType.DATATYPE)).datatype
            dtype = datatype.numpy_dtype()
            raw_pipeline = find_message(messages, MessageType.FILTER_PIPELINE)
            pipeline = (
                None
                if raw_pipeline is None
                else FilterPipeline.from_message(FilterPipelineMessage.decode(raw_pipeline.body))
            )
        except FilterUnavailableError:
            raise
        except H5SwmrError:
            return None
        dims, maxdims = dataspace.dims, dataspace.maxdims
        if (
            not isinstance(layout, ChunkedLayoutMessage)
            or layout.index_type != ChunkIndexType.EXTENSIBLE_ARRAY
            or layout.index_address == UNDEFINED_ADDRESS
            or maxdims is None
            or len(dims) < 1
            or maxdims[0] != UNLIMITED
            or tuple(maxdims[1:]) != tuple(dims[1:])
            or (dtype.kind not in STREAMING_DTYPE_KINDS and dtype.fields is None)  # or records
            or (isinstance(datatype, StringType) and datatype.padding != StringPadding.NULL_PADDED)
        ):  # strings as h5swmr appends them: NUL-padded (a full NUL-terminated one loses a byte)
            return None
        grid = ChunkGrid(tuple(dims[1:]), tuple(layout.chunk_dims), dtype.itemsize)
        codec = ElementCodec.for_chunks(grid.chunk_nbytes, filtered=pipeline is not None)
        lookup = ExtensibleArrayLookup(self.src, layout.index_address)
        index = ExtensibleArrayIndex.from_lookup(lookup, codec, self.allocator)
        fixed = tuple(m for m in header.messages if m.type not in _REWRITTEN)  # chunk 0's
        continuations = [m for m in fixed if m.type == MessageType.CONTINUATION]
        moved_messages = walked.continued
        node = DatasetNode(path, address, index=len(self.datasets))
        block = None
        adopted = _attributes_by_name(moved_messages)
        if len(continuations) == 1 and adopted is not None:
            # attributes in a block of their own, as h5swmr keeps them: adopted, so setting one
            # again replaces it and a new block holds them all
            fixed = tuple(m for m in fixed if m.type != MessageType.CONTINUATION)
            target = ContinuationMessage.decode(continuations[0].body)
            block = (target.address, target.length)
            node.attributes.update(adopted)
        dataset = StreamingDataset(
            node,
            np.dtype(dtype),
            grid,
            pipeline=pipeline,
            index=index,
            fixed_messages=fixed,
            frames=dims[0],
        )
        dataset.header_size = header.size
        dataset.header_links = _reference_count(messages)
        dataset.attribute_block = dataset.header_attribute_block = block
        try:  # the dims must be rewritable in place, with the link count it has
            dataset.header(dims[0], dataset.header_links).encode()
        except H5SwmrError:
            return None
        dataset.resume_band(self.src)
        index.drop_unset_tail(dataset.first_open_chunk())
        return dataset


def _static_dataset(path: str, address: int, walked: WalkedHeader) -> StaticDatasetNode | KeptNode:
    """A dataset h5swmr cannot append to, as a StaticDatasetNode if h5swmr can write its header
    anew (its own messages verbatim, its attributes by name so one set again replaces it), else a
    KeptNode saying why not."""
    header, messages = walked.chunk0, walked.messages
    reason = ""
    if header is None:
        reason = "a version 1 object header (libhdf5's default format)"
    elif header.flags & ObjectHeaderFlags.TIMES_STORED:
        reason = "its object header stores modification times (h5py's track_times=True)"
    elif header.flags & ~ObjectHeaderFlags.SIZE_WIDTH_MASK:
        reason = "its object header tracks attribute creation order (h5py's track_order=True)"
    elif find_message(messages, MessageType.LAYOUT) is None:
        reason = "not a dataset"
    elif _dense_attributes(messages):
        reason = "its attributes are kept in dense storage (a fractal heap)"
    attributes = _attributes_by_name(tuple(m for m in messages if m.type == MessageType.ATTRIBUTE))
    if not reason and attributes is None:
        reason = "an attribute h5swmr cannot read"
    if reason or attributes is None:
        return KeptNode(path, address, reason=reason)
    own = tuple(m for m in messages if m.type not in _STATIC_OWN)
    return StaticDatasetNode(path, address, attributes=attributes, messages=own, reopened=True)


def _dense_attributes(messages: tuple[RawMessage, ...]) -> bool:
    """Whether an attribute info message puts the attributes in a fractal heap (libhdf5 writes
    one into every version 2 header, compact with no heap, where new attributes may be added
    as messages beside it)."""
    raw = find_message(messages, MessageType.ATTRIBUTE_INFO)
    if raw is None:
        return False
    try:
        return AttributeInfoMessage.decode(raw.body).is_dense
    except H5SwmrError:
        return True


def _attributes_by_name(messages: tuple[RawMessage, ...]) -> dict[str, RawMessage] | None:
    """The messages by attribute name if all are attributes h5swmr can read, else None."""
    named = {}
    for raw in messages:
        if raw.type != MessageType.ATTRIBUTE:
            return None
        try:
            named[AttributeMessage.decode(raw.body).name] = raw
        except H5SwmrError:
            return None
    return named


def _body(messages: tuple[RawMessage, ...], message_type: MessageType) -> bytes:
    raw = find_message(messages, message_type)
    if raw is None:
        raise UnsupportedError(f"object header without a {message_type.name} message")
    return raw.body


def _reference_count(messages: tuple[RawMessage, ...]) -> int:
    raw = find_message(messages, MessageType.REFERENCE_COUNT)
    return 1 if raw is None else ReferenceCountMessage.decode(raw.body).count
