"""Object header messages, one module each, named after the spec's message."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from h5swmr.format.constants import MessageType
from h5swmr.format.cursor import BytesLike
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.base import Message
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.format.messages.fill_value import FillValueMessage
from h5swmr.format.messages.filter_pipeline import FilterPipelineMessage
from h5swmr.format.messages.group_info import GroupInfoMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.messages.reference_count import ReferenceCountMessage

MESSAGE_CLASSES: Mapping[MessageType, type[Message]] = {
    MessageType.DATASPACE: DataspaceMessage,
    MessageType.LINK_INFO: LinkInfoMessage,
    MessageType.DATATYPE: DatatypeMessage,
    MessageType.FILL_VALUE: FillValueMessage,
    MessageType.LINK: LinkMessage,
    MessageType.LAYOUT: ChunkedLayoutMessage,
    MessageType.GROUP_INFO: GroupInfoMessage,
    MessageType.FILTER_PIPELINE: FilterPipelineMessage,
    MessageType.CONTINUATION: ContinuationMessage,
    MessageType.REFERENCE_COUNT: ReferenceCountMessage,
    MessageType.ATTRIBUTE_INFO: AttributeInfoMessage,
}
"""Message type -> class. A layout may also decode as contiguous or compact: use DECODERS."""

DECODERS: Mapping[MessageType, Callable[[BytesLike], Message]] = {
    **{t: cls.decode for t, cls in MESSAGE_CLASSES.items()},
    MessageType.LAYOUT: decode_layout,
}
"""Message type -> function decoding its body; for the layout it picks the layout's class."""


def decode_message(message_type: int, body: BytesLike) -> Message | None:
    """Decode a body of a known message type; None for types h5swmr does not decode."""
    try:
        decoder = DECODERS[MessageType(message_type)]
    except (ValueError, KeyError):
        return None
    return decoder(body)
