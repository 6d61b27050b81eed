"""Python values as HDF5 attributes: numbers, numpy arrays, strings and lists of strings.

Strings are stored as fixed-length, NUL-terminated UTF-8 (as NDFileHDF5 stores NeXus attributes):
every HDF5 reader since 1.8 reads them, and they need no global heap. h5py returns them as bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from h5swmr.errors import H5SwmrError, InvalidArgumentError
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.datatype import (
    DatatypeMessage,
    StringCharset,
    StringPadding,
    StringType,
)
from h5swmr.format.object_header import RawMessage

MAX_ATTRIBUTE_BYTES = 60_000
"""Attributes live in object headers, whose messages hold at most 64 KiB."""


def _strings(values: Sequence[str | bytes], where: str) -> tuple[DatatypeMessage, bytes, int]:
    encoded = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
    size = max((len(e) for e in encoded), default=0) + 1  # room for the NUL terminator
    ascii_only = all(e.isascii() for e in encoded)
    charset = StringCharset.ASCII if ascii_only else StringCharset.UTF8
    datatype = DatatypeMessage(StringType(size, StringPadding.NULL_TERMINATED, charset))
    if any(b"\x00" in e for e in encoded):
        raise InvalidArgumentError(f"{where}: strings must not contain NUL characters")
    return datatype, b"".join(e.ljust(size, b"\x00") for e in encoded), len(encoded)


def attribute_message(name: str, value: object, where: str) -> RawMessage:
    """The encoded attribute ``name = value``, or InvalidArgumentError saying what is accepted."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InvalidArgumentError(f"{where}: attribute name {name!r} must be a non-empty str")
    if isinstance(value, str | bytes):
        datatype, data, _ = _strings([value], where)
        dims: tuple[int, ...] = ()
    elif (
        isinstance(value, list | tuple) and value and all(isinstance(v, str | bytes) for v in value)
    ):
        datatype, data, count = _strings(list(value), where)
        dims = (count,)
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biufc" or array.dtype.fields is not None:
            raise InvalidArgumentError(
                f"{where}: attribute {name!r} = {value!r}: use a number, a numpy array of "
                "numbers, a str or a list of str"
            )
        if array.dtype.kind in "iu" and not isinstance(value, np.ndarray | np.generic):
            array = array.astype(np.int64)
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)  # keeps 0-d scalars
        try:
            datatype = DatatypeMessage.from_numpy(array.dtype)
        except H5SwmrError as exc:
            raise InvalidArgumentError(f"{where}: attribute {name!r}: {exc}") from exc
        data, dims = array.tobytes(order="C"), array.shape
    if len(data) > MAX_ATTRIBUTE_BYTES:
        raise InvalidArgumentError(
            f"{where}: attribute {name!r} holds {len(data)} bytes; attributes up to "
            f"{MAX_ATTRIBUTE_BYTES} bytes fit an object header (store bigger values as a dataset)"
        )
    message = AttributeMessage.create(name, datatype, dims, data)
    return RawMessage(int(message.TYPE), message.encode(), int(message.FLAGS))
