"""Attributes, from the object header (compact storage) or a fractal heap (dense storage),
decoded to numpy values as h5py does: a scalar attribute gives a numpy scalar, others an array."""

from __future__ import annotations

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageType
from h5swmr.format.global_heap import VariableLengthReference
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.datatype import VariableLengthStringType
from h5swmr.format.object_header import RawMessage, find_message, find_messages
from h5swmr.reader.dense import read_dense_attribute_bodies
from h5swmr.reader.global_heap import resolve_strings

MAX_STRINGS = 1 << 20


def attribute_value(message: AttributeMessage, src: FileSource | None = None) -> object:
    if isinstance(message.datatype.datatype, VariableLengthStringType):
        if src is None:
            raise UnsupportedError("variable-length strings need the file to read them from")
        return _variable_length_strings(message, src)
    dtype = message.datatype.to_numpy()
    dims = message.dataspace.dims
    array = np.frombuffer(message.data, dtype, count=int(np.prod(dims)) if dims else 1)
    return array.reshape(dims)[()] if not dims else array.reshape(dims).copy()


def read_attributes(src: FileSource, messages: tuple[RawMessage, ...]) -> dict[str, object]:
    """Name -> value of every attribute in ``messages``, in name order."""
    bodies = [raw.body for raw in find_messages(messages, MessageType.ATTRIBUTE)]
    info = find_message(messages, MessageType.ATTRIBUTE_INFO)
    if info is not None:
        decoded = AttributeInfoMessage.decode(info.body)
        if decoded.is_dense:
            bodies += read_dense_attribute_bodies(src, decoded)
    values = {}
    for body in bodies:
        message = AttributeMessage.decode(body)
        values[message.name] = attribute_value(message, src)
    return dict(sorted(values.items()))


def _variable_length_strings(message: AttributeMessage, src: FileSource) -> object:
    """Strings kept in global heap collections, as h5py returns them: str, or an object array."""
    dims = message.dataspace.dims
    count = int(np.prod(dims)) if dims else 1
    if count > MAX_STRINGS or count * VariableLengthReference.SIZE > len(message.data):
        raise FormatError(
            f"attribute {message.name!r}: {count} strings in {len(message.data)} bytes"
        )
    charset = message.datatype.datatype.charset  # type: ignore[union-attr]
    raw = np.frombuffer(message.data, f"V{VariableLengthReference.SIZE}", count=count).reshape(dims)
    texts = resolve_strings(src, raw, charset)
    return texts[()] if not dims else texts
