"""Attributes stored in an object header (compact storage), decoded to numpy values as h5py does:
a scalar attribute gives a numpy scalar, others an array."""

from __future__ import annotations

import numpy as np

from h5swmr.errors import UnsupportedError
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageType
from h5swmr.format.cursor import ByteCursor
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.reader.objects import first_of, messages_of
from h5swmr.reader.source import FileSource


def attribute_value(message: AttributeMessage) -> object:
    dtype = message.datatype.to_numpy()
    dims = message.dataspace.dims
    array = np.frombuffer(message.data, dtype, count=int(np.prod(dims)) if dims else 1)
    return array.reshape(dims)[()] if not dims else array.reshape(dims).copy()


def read_attributes(src: FileSource, messages: tuple[RawMessage, ...]) -> dict[str, object]:
    """Name -> value of every attribute in ``messages``, in name order."""
    info = first_of(messages, MessageType.ATTRIBUTE_INFO)
    if info is not None and _has_dense_storage(info.body):
        raise UnsupportedError(f"{src.path!r}: dense attribute storage is not supported")
    values = {}
    for raw in messages_of(messages, MessageType.ATTRIBUTE):
        message = AttributeMessage.decode(raw.body)
        values[message.name] = attribute_value(message)
    return dict(sorted(values.items()))


def _has_dense_storage(body: bytes) -> bool:
    """Attribute info message (0x15): version, flags, [max creation index], fractal heap address."""
    cur = ByteCursor(body, "attribute info message")
    _, flags = cur.u8(), cur.u8()
    if flags & 0x01:
        cur.skip(2)
    return cur.u64() != UNDEFINED_ADDRESS
