"""Object headers of the writer's groups and datasets, as lists of encoded messages.

A dataset header is sized once, with room to spare, and rewritten in place for its whole life:
the dims change at every commit, a reference count appears when a hard link is published.
"""

from __future__ import annotations

from collections.abc import Sequence

from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.checksum import reseal_body
from h5swmr.format.constants import CHECKSUM_SIZE, UNLIMITED, ChunkIndexType
from h5swmr.format.messages.base import Message
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.messages.dataspace import DataspaceMessage, pack_dim_into
from h5swmr.format.messages.fill_value import FillValueMessage
from h5swmr.format.messages.group_info import GroupInfoMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.messages.reference_count import ReferenceCountMessage
from h5swmr.format.object_header import (
    ContinuationBlock,
    ObjectHeader,
    RawMessage,
    message_bytes,
)
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.writer.chunking import ChunkGrid
from h5swmr.writer.extensible_array_index import ExtensibleArrayIndex
from h5swmr.writer.fixed_array_index import FixedArrayIndex
from h5swmr.writer.tree import GroupNode, Node

DATASET_HEADER_SPARE = 64
"""NIL bytes kept free in every dataset header: a reference-count message (8 bytes) or a
continuation to more messages (20 bytes) can later take their place without moving the header."""


def raw_message(message: Message) -> RawMessage:
    """A message encoded for an object header, with its type and flags."""
    return RawMessage(int(message.TYPE), message.encode(), int(message.FLAGS))


def raw_messages(*messages: Message) -> tuple[RawMessage, ...]:
    return tuple(raw_message(m) for m in messages)


def _reference_count(count: int) -> list[RawMessage]:
    return [raw_message(ReferenceCountMessage(count))] if count > 1 else []


def fitted_header(messages: Sequence[RawMessage]) -> ObjectHeader:
    """An object header whose chunk 0 holds exactly ``messages``, for objects written once and
    never rewritten in place (groups, the datasets of a master file)."""
    chunk = tuple(messages)
    return ObjectHeader(chunk, message_bytes(chunk))


def compact_group_header(
    links: Sequence[LinkMessage],
    extra: Sequence[RawMessage] = (),
    *,
    link_count: int = 1,
) -> ObjectHeader:
    """A compact group (libhdf5's latest format): link info, group info, one link message per
    member, then ``extra`` messages (attributes, links kept verbatim) and the reference count."""
    return fitted_header(
        [
            raw_message(LinkInfoMessage()),
            raw_message(GroupInfoMessage.for_links(len(links))),
            *(raw_message(link) for link in links),
            *extra,
            *_reference_count(link_count),
        ]
    )


def dataset_fixed_messages(
    datatype: Message,
    grid: ChunkGrid,
    pipeline: FilterPipeline | None,
    index: ExtensibleArrayIndex,
) -> tuple[RawMessage, ...]:
    """The messages of a new dataset that never change: datatype, fill value, pipeline, layout."""
    itemsize = grid.itemsize
    messages: list[Message] = [datatype, FillValueMessage()]
    if pipeline is not None:
        messages.append(pipeline.describe(itemsize))
    messages.append(
        ChunkedLayoutMessage(
            chunk_dims=grid.chunk,
            element_size=itemsize,
            index_type=ChunkIndexType.EXTENSIBLE_ARRAY,
            index_address=index.header_address,
            ea_params=index.params,
        )
    )
    return tuple(raw_message(m) for m in messages)


def grid_fixed_messages(
    datatype: Message,
    chunk: tuple[int, ...],
    itemsize: int,
    pipeline: FilterPipeline | None,
    index: FixedArrayIndex,
) -> tuple[RawMessage, ...]:
    """The messages of a new grid dataset that never change, its layout with a fixed array."""
    messages: list[Message] = [datatype, FillValueMessage()]
    if pipeline is not None:
        messages.append(pipeline.describe(itemsize))
    messages.append(
        ChunkedLayoutMessage(
            chunk_dims=chunk,
            element_size=itemsize,
            index_type=ChunkIndexType.FIXED_ARRAY,
            index_address=index.header_address,
            fixed_array_page_bits=index.page_bits,
        )
    )
    return tuple(raw_message(m) for m in messages)


Block = tuple[int, int]
"""Address and length of an OCHK block that holds a dataset's attributes."""


def dataset_messages(
    fixed: tuple[RawMessage, ...],
    frame_dims: tuple[int, ...],
    frames: int,
    links: int,
    attributes: Block | None = None,
    *,
    max_frames: int | None = None,
) -> tuple[RawMessage, ...]:
    """Dims first (rewritten at every commit), then what never changes, then the link count and
    the continuation to the attributes. Attributes live in a block of their own, written once:
    chunk 0 stays small enough to be rewritten within one page, whatever the attributes."""
    limit = UNLIMITED if max_frames is None else max_frames  # a grid's first dim is fixed
    dataspace = DataspaceMessage((frames, *frame_dims), (limit, *frame_dims))
    continuation = [] if attributes is None else [raw_message(ContinuationMessage(*attributes))]
    return (raw_message(dataspace), *fixed, *_reference_count(links), *continuation)


def attribute_block(messages: tuple[RawMessage, ...]) -> ContinuationBlock:
    """An OCHK block holding exactly ``messages``."""
    return ContinuationBlock(messages, message_bytes(messages) + len(b"OCHK") + CHECKSUM_SIZE)


def dataset_header_size(
    fixed: tuple[RawMessage, ...], frame_dims: tuple[int, ...], *, max_frames: int | None = None
) -> int:
    """A size for life: the messages with one link, plus DATASET_HEADER_SPARE."""
    messages = dataset_messages(fixed, frame_dims, 0, 1, max_frames=max_frames)
    chunk_size = message_bytes(messages) + DATASET_HEADER_SPARE
    return ObjectHeader.size_for(chunk_size)


def dataset_header(
    fixed: tuple[RawMessage, ...],
    frame_dims: tuple[int, ...],
    frames: int,
    links: int,
    header_size: int,
    *,
    attributes: Block | None = None,
    max_frames: int | None = None,
) -> ObjectHeader:
    chunk_size = header_size - ObjectHeader.size_for(0)
    messages = dataset_messages(fixed, frame_dims, frames, links, attributes, max_frames=max_frames)
    return ObjectHeader(messages, chunk_size)


_DATASPACE_AT = ObjectHeader.FIRST_MESSAGE_OFFSET
"""Where the dataspace body starts in an encoded dataset header: its first message."""
_FRAMES_AT = _DATASPACE_AT + DataspaceMessage.FIRST_DIM_OFFSET
"""Where the frame count (dims[0]) lies in an encoded dataset header."""


class DatasetHeaderImage:
    """A dataset header's encoded bytes, kept between commits.

    Between two commits only the frame count (dims[0]) changes, and now and then the link count.
    The image is encoded whole when the link count changes; otherwise the 8-byte frame count is
    patched in place and the checksum recomputed over the whole chunk. The bytes are identical
    to ``dataset_header(...).encode()``. ``encode`` returns the image itself, not a copy: it is
    written by the commit that asked for it, before the next ``encode`` patches it again.
    """

    __slots__ = (
        "_attributes",
        "_body",
        "_fixed",
        "_frame_dims",
        "_header_size",
        "_image",
        "_links",
        "_max_frames",
    )

    def __init__(
        self,
        fixed: tuple[RawMessage, ...],
        frame_dims: tuple[int, ...],
        header_size: int,
        max_frames: int | None = None,
    ) -> None:
        self._fixed = fixed
        self._max_frames = max_frames
        self._frame_dims = frame_dims
        self._header_size = header_size
        self._links = -1
        self._attributes: Block | None = None
        self._image = bytearray()
        self._body = memoryview(self._image)
        """The image without its checksum (what the checksum covers)."""

    def encode(self, frames: int, links: int, attributes: Block | None = None) -> bytearray:
        image = self._image
        if links != self._links or attributes != self._attributes:
            header = dataset_header(
                self._fixed,
                self._frame_dims,
                frames,
                links,
                self._header_size,
                attributes=attributes,
                max_frames=self._max_frames,
            )
            image = self._image = bytearray(header.encode())
            if DataspaceMessage.first_dim_in(image, _DATASPACE_AT) != frames:  # pragma: no cover
                raise AssertionError("dataset header: the dims are not where expected")
            self._body = memoryview(image)[:-CHECKSUM_SIZE]
            self._links, self._attributes = links, attributes
            return image
        pack_dim_into(image, _FRAMES_AT, frames)  # DataspaceMessage.patch_first_dim
        reseal_body(image, self._body)
        return image


def static_header(fixed: tuple[RawMessage, ...], node: Node) -> ObjectHeader:
    """A dataset written whole: its ``fixed`` messages, its attributes and its link count,
    in one chunk sized to fit (written anew, at a fresh address, when any of these change)."""
    return fitted_header([*fixed, *node.attributes.values(), *_reference_count(node.link_count)])


def group_header(group: GroupNode, *, placed: bool = True) -> ObjectHeader:
    """A compact group: link info, group info and one link message per member.

    With ``placed=False`` members may not have addresses yet: the header then has the right size
    (which addresses do not change) but must not be written.
    """
    links = [LinkMessage(name, node.address if placed else 0) for name, node in group.links.items()]
    extra = [*group.extra_messages, *group.attributes.values()]
    return compact_group_header(links, extra, link_count=group.link_count)


class SuperblockImage:
    """The superblock as last written; while flags and root stay, only the EOF and the checksum
    are patched (bytes identical to ``Superblock(...).encode()``)."""

    __slots__ = ("_eof", "_image", "_key")

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._eof = -1
        self._image = bytearray()

    def update(self, flags: ConsistencyFlags, eof: int, root: int) -> bytearray | None:
        """The superblock's bytes with these fields, or None if they are those of the last
        call (nothing to write). The image itself is returned, valid until the next call."""
        image = self._image
        if self._key != (flags, root):
            image = self._image = bytearray(Superblock(flags, eof, root).encode())
            self._key = (flags, root)
        elif eof != self._eof:
            Superblock.patch_eof(image, eof)
        else:
            return None
        self._eof = eof
        return image
