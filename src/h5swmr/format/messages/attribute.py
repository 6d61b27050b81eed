"""Attribute message, type 0x000C (spec §IV.A.2.m; libhdf5 H5Oattr.c H5O__attr_decode).

Version 1 pads the name, datatype and dataspace to multiples of 8 bytes; versions 2 and 3 do not,
and version 3 adds the name's character set. The raw value follows: one element per point of the
dataspace. Shared datatypes or dataspaces (flags bits 0-1) are not supported.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import DatatypeMessage

_WHAT = "attribute message"
_HEAD = struct.Struct("<BBHHH")  # version, flags/reserved, name size, datatype size, dataspace size
_SHARED_MASK = 0x03


def _padded(n: int, version: int) -> int:
    return (n + 7) // 8 * 8 if version == 1 else n


@dataclass(frozen=True, slots=True)
class AttributeMessage:
    """One attribute: its name, type, shape and raw value bytes."""

    name: str
    datatype: DatatypeMessage
    dataspace: DataspaceMessage
    datatype_bytes: bytes
    data: bytes

    TYPE: ClassVar[MessageType] = MessageType.ATTRIBUTE
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 3

    @classmethod
    def create(
        cls, name: str, datatype: DatatypeMessage, dims: tuple[int, ...], data: bytes
    ) -> Self:
        """An attribute of ``dims`` (``()`` for a scalar) elements of ``datatype``."""
        if not name or "\x00" in name:
            raise FormatError(f"{_WHAT}: name {name!r} must be non-empty, without NUL")
        nbytes = math.prod(dims) * datatype.element_size
        if len(data) != nbytes:
            raise FormatError(f"{_WHAT} {name!r}: {len(data)} bytes of data, expected {nbytes}")
        dataspace = DataspaceMessage(dims)
        return cls(name, datatype, dataspace, datatype.encode(), data)

    def encode(self) -> bytes:
        """Version 3: no padding; the name's character set says ASCII or UTF-8."""
        name = self.name.encode("utf-8") + b"\x00"
        charset = 0 if self.name.isascii() else 1
        space = self.dataspace.encode()
        head = _HEAD.pack(self.VERSION, 0, len(name), len(self.datatype_bytes), len(space))
        return b"".join((head, bytes([charset]), name, self.datatype_bytes, space, self.data))

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version, flags, name_size, type_size, space_size = cur.unpack(_HEAD)
        if version not in (1, 2, 3):
            raise FormatError(f"{_WHAT}: version {version}", structure=_WHAT)
        if version > 1 and flags & _SHARED_MASK:
            raise UnsupportedError(f"{_WHAT}: shared datatype or dataspace")
        if version == 3:
            cur.skip(1)
        raw_name = cur.read(_padded(name_size, version))[:name_size]
        try:
            name = raw_name.split(b"\x00", 1)[0].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{_WHAT}: name is not UTF-8", structure=_WHAT) from exc
        type_raw = cur.read(_padded(type_size, version))[:type_size]
        space_raw = cur.read(_padded(space_size, version))[:space_size]
        datatype = DatatypeMessage.decode(type_raw)
        dataspace = DataspaceMessage.decode(space_raw)
        nbytes = math.prod(dataspace.dims) * datatype.element_size
        if nbytes > cur.remaining:
            raise FormatError(
                f"{_WHAT} {name!r}: value needs {nbytes} bytes, {cur.remaining} stored",
                structure=_WHAT,
            )
        return cls(name, datatype, dataspace, type_raw, cur.read(nbytes))
