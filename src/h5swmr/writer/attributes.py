"""Python values as HDF5 attributes: numbers, numpy arrays, strings and lists of strings.

Strings are stored as h5py stores them by default: a ``str`` as a variable-length UTF-8 string
(its text in a global heap collection), ``bytes`` as a variable-length ASCII string, so h5py
returns ``str`` for both. ``fixed_length=True`` (or a ``numpy.bytes_`` value) stores fixed-length,
NUL-terminated strings instead, as NDFileHDF5 stores NeXus attributes; h5py returns those as
``numpy.bytes_``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from h5swmr.errors import H5SwmrError, InvalidArgumentError
from h5swmr.format.global_heap import VariableLengthReference
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.datatype import (
    DatatypeMessage,
    StringCharset,
    StringPadding,
    StringType,
    VariableLengthStringType,
)
from h5swmr.format.object_header import RawMessage
from h5swmr.writer.heap import GlobalHeapWriter

MAX_ATTRIBUTE_BYTES = 60_000
"""Attributes live in object headers, whose messages hold at most 64 KiB."""


def encode_strings(values: Sequence[str | bytes], where: str) -> tuple[list[bytes], bool]:
    """The strings as UTF-8 bytes, and whether any was a ``str`` (then the charset is UTF-8);
    InvalidArgumentError for text libhdf5 cannot hold (NUL, lone surrogates)."""
    try:
        encoded = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(f"{where}: a string is not valid UTF-8 ({exc})") from exc
    if any(b"\x00" in e for e in encoded):
        raise InvalidArgumentError(f"{where}: strings must not contain NUL characters")
    return encoded, any(isinstance(v, str) for v in values)


def fixed_length_strings(encoded: Sequence[bytes]) -> tuple[DatatypeMessage, bytes]:
    """Fixed-length NUL-terminated strings as long as the longest, plus its NUL."""
    size = max((len(e) for e in encoded), default=0) + 1
    ascii_only = all(e.isascii() for e in encoded)
    charset = StringCharset.ASCII if ascii_only else StringCharset.UTF8
    datatype = DatatypeMessage(StringType(size, StringPadding.NULL_TERMINATED, charset))
    return datatype, b"".join(e.ljust(size, b"\x00") for e in encoded)


def variable_length_strings(
    encoded: Sequence[bytes], utf8: bool, heap: GlobalHeapWriter
) -> tuple[DatatypeMessage, bytes]:
    """Variable-length strings as h5py writes them: UTF-8 for ``str``, ASCII for ``bytes``
    (non-ASCII bytes are marked UTF-8 too, so readers can decode them)."""
    ascii_only = not utf8 and all(e.isascii() for e in encoded)
    charset = StringCharset.ASCII if ascii_only else StringCharset.UTF8
    datatype = DatatypeMessage(
        VariableLengthStringType(VariableLengthReference.SIZE, charset=charset)
    )
    return datatype, heap.store(encoded)


def _string_values(value: object) -> list[str | bytes] | None:
    """The strings of a str, bytes or a non-empty list/tuple of them; None for anything else."""
    if isinstance(value, str | bytes):
        return [value]
    if isinstance(value, list | tuple) and value and all(isinstance(v, str | bytes) for v in value):
        return list(value)
    return None


def attribute_message(
    name: str,
    value: object,
    where: str,
    heap: GlobalHeapWriter | None = None,
    *,
    fixed_length: bool = False,
) -> RawMessage:
    """The encoded attribute ``name = value``, or InvalidArgumentError saying what is accepted.

    Strings go to ``heap`` as variable-length strings unless ``fixed_length`` (or no heap is
    given, or the value is a ``numpy.bytes_``). Everything is checked before the heap is used,
    so a rejected value stores nothing."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InvalidArgumentError(f"{where}: attribute name {name!r} must be a non-empty str")
    strings = _string_values(value)
    dims: tuple[int, ...] = ()
    if strings is not None:
        encoded, utf8 = encode_strings(strings, where)
        dims = () if isinstance(value, str | bytes) else (len(encoded),)
        fixed = fixed_length or heap is None or isinstance(value, np.bytes_)
        count_bytes = len(encoded) * VariableLengthReference.SIZE
        if not fixed and count_bytes > MAX_ATTRIBUTE_BYTES:
            _too_big(where, name, count_bytes)
        if fixed or heap is None:
            datatype, data = fixed_length_strings(encoded)
        else:
            datatype, data = variable_length_strings(encoded, utf8, heap)
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
        _too_big(where, name, len(data))
    message = AttributeMessage.create(name, datatype, dims, data)
    return RawMessage(int(message.TYPE), message.encode(), int(message.FLAGS))


def _too_big(where: str, name: str, nbytes: int) -> None:
    raise InvalidArgumentError(
        f"{where}: attribute {name!r} holds {nbytes} bytes; attributes up to "
        f"{MAX_ATTRIBUTE_BYTES} bytes fit an object header (store bigger values as a dataset)"
    )
