"""Object headers of the writer's groups and datasets, as lists of encoded messages.

A dataset header is sized once, with room to spare, and rewritten in place for its whole life:
the dims change at every commit, a reference count appears when a hard link is published.
"""

from __future__ import annotations

from h5swmr.format.constants import UNLIMITED, ChunkIndexType
from h5swmr.format.messages.base import Message
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.fill_value import FillValueMessage
from h5swmr.format.messages.group_info import GroupInfoMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.messages.reference_count import ReferenceCountMessage
from h5swmr.format.object_header import ObjectHeader, RawMessage, message_bytes
from h5swmr.writer.streaming_dataset import StreamingDataset
from h5swmr.writer.tree import GroupNode

DATASET_HEADER_SPARE = 64
"""NIL bytes kept free in every dataset header: a reference-count message (8 bytes) or a
continuation to more messages (20 bytes) can later take their place without moving the header."""


def _raw(message: Message) -> RawMessage:
    return RawMessage(int(message.TYPE), message.encode(), int(message.FLAGS))


def _reference_count(count: int) -> list[RawMessage]:
    return [_raw(ReferenceCountMessage(count))] if count > 1 else []


def dataset_messages(dataset: StreamingDataset, frames: int, links: int) -> tuple[RawMessage, ...]:
    grid = dataset.grid
    messages: list[Message] = [
        DataspaceMessage((frames, *grid.frame_dims), (UNLIMITED, *grid.frame_dims)),
        dataset.datatype,
        FillValueMessage(),
    ]
    if dataset.pipeline is not None:
        messages.append(dataset.pipeline.describe(dataset.dtype.itemsize))
    messages.append(
        ChunkedLayoutMessage(
            chunk_dims=grid.chunk,
            element_size=dataset.dtype.itemsize,
            index_type=ChunkIndexType.EXTENSIBLE_ARRAY,
            index_address=dataset.index.header_address,
            ea_params=dataset.index.params,
        )
    )
    return tuple(_raw(m) for m in messages) + tuple(_reference_count(links))


def dataset_header(dataset: StreamingDataset, frames: int, links: int) -> ObjectHeader:
    """The dataset's header; its size is fixed by the first call (``dataset.header_size``)."""
    messages = dataset_messages(dataset, frames, links)
    if not dataset.header_size:
        without_count = dataset_messages(dataset, frames, 1)
        chunk_size = message_bytes(without_count) + DATASET_HEADER_SPARE
        dataset.header_size = ObjectHeader.size_for(chunk_size)
    chunk_size = dataset.header_size - ObjectHeader.size_for(0)
    return ObjectHeader(messages, chunk_size)


def group_header(group: GroupNode, *, placed: bool = True) -> ObjectHeader:
    """A compact group: link info, group info and one link message per member.

    With ``placed=False`` members may not have addresses yet: the header then has the right size
    (which addresses do not change) but must not be written.
    """
    messages = [
        _raw(LinkInfoMessage()),
        _raw(GroupInfoMessage.for_links(len(group.links))),
        *(
            _raw(LinkMessage(name, node.address if placed else 0))
            for name, node in group.links.items()
        ),
        *_reference_count(group.link_count),
    ]
    chunk = tuple(messages)
    return ObjectHeader(chunk, message_bytes(chunk))
