"""Link message, type 0x0006 (spec §IV.A.2.g; libhdf5 H5Olink.c).

h5swmr writes hard links of version 1 without creation order, with the narrowest name-length
field, and with a charset byte only for non-ASCII (UTF-8) names, as h5py does:
hard link "data" = ``01 00 04 64 61 74 61 <address>``. Soft and external links are decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_WHAT = "link message"
_HEADER = struct.Struct("<BB")  # version, flags
_WIDTH_MASK = 0x03
FLAG_CREATION_ORDER = 0x04
FLAG_LINK_TYPE = 0x08
FLAG_CHARSET = 0x10
_KNOWN_FLAGS = 0x1F
_EXTERNAL_VERSION = 0


class LinkType(IntEnum):
    HARD = 0
    SOFT = 1
    EXTERNAL = 64


class CharacterSet(IntEnum):
    ASCII = 0
    UTF8 = 1


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


def _width(n: int) -> int:
    """Exponent k of the narrowest 1 << k byte field that holds ``n``."""
    return next(k for k in range(4) if n < 1 << (8 << k))


def _decode_text(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"{field} is not UTF-8") from exc


@dataclass(frozen=True, slots=True)
class LinkMessage:
    """A named link from a group: hard (``address``), soft (``target``) or external
    (``file_name`` + ``target``)."""

    TYPE: ClassVar[MessageType] = MessageType.LINK
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 1

    name: str
    address: int = UNDEFINED_ADDRESS
    link_type: LinkType = LinkType.HARD
    target: str = ""
    file_name: str = ""
    creation_order: int | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name == ".":
            raise _error(f"name {self.name!r}: must be non-empty, without '/', not '.'")
        try:
            self.name.encode("utf-8")
            self.target.encode("utf-8")
            self.file_name.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _error(f"name {self.name!r} or target is not encodable as UTF-8") from exc
        if self.link_type not in tuple(LinkType):
            raise _error(f"link type {self.link_type}")
        if self.link_type == LinkType.HARD:
            if not 0 <= self.address < UNDEFINED_ADDRESS or self.target or self.file_name:
                raise _error(f"hard link {self.name!r}: address {self.address}")
        elif self.address != UNDEFINED_ADDRESS:
            raise _error(f"{self.link_type.name.lower()} link {self.name!r} has an address")
        elif self.link_type == LinkType.SOFT and self.file_name:
            raise _error(f"soft link {self.name!r} has a file name")
        if self.creation_order is not None and not 0 <= self.creation_order < 1 << 63:
            raise _error(f"creation order {self.creation_order}")

    def _value(self) -> bytes:
        if self.link_type == LinkType.HARD:
            return struct.pack("<Q", self.address)
        if self.link_type == LinkType.SOFT:
            data = self.target.encode("utf-8")
        else:
            data = b"".join(
                (
                    bytes([_EXTERNAL_VERSION]),
                    self.file_name.encode("utf-8") + b"\x00",
                    self.target.encode("utf-8") + b"\x00",
                )
            )
        if len(data) > 0xFFFF:
            raise _error(f"link {self.name!r}: target of {len(data)} bytes")
        return struct.pack("<H", len(data)) + data

    def encode(self) -> bytes:
        name = self.name.encode("utf-8")
        width = _width(len(name))
        flags = width
        parts = []
        if self.link_type != LinkType.HARD:
            flags |= FLAG_LINK_TYPE
            parts.append(bytes([self.link_type]))
        if self.creation_order is not None:
            flags |= FLAG_CREATION_ORDER
            parts.append(struct.pack("<q", self.creation_order))
        if not self.name.isascii():
            flags |= FLAG_CHARSET
            parts.append(bytes([CharacterSet.UTF8]))
        parts += (len(name).to_bytes(1 << width, "little"), name, self._value())
        return _HEADER.pack(self.VERSION, flags) + b"".join(parts)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version, flags = cur.unpack(_HEADER)
        if version != cls.VERSION:
            raise _error(f"version {version}")
        if flags & ~_KNOWN_FLAGS:
            raise _error(f"flags {flags:#x}")
        raw_type = cur.u8() if flags & FLAG_LINK_TYPE else LinkType.HARD
        creation_order = cur.u64() if flags & FLAG_CREATION_ORDER else None
        if flags & FLAG_CHARSET and cur.u8() not in tuple(CharacterSet):
            raise _error("character set")
        name = _decode_text(cur.read(cur.uint(1 << (flags & _WIDTH_MASK))), "name")
        try:
            link_type = LinkType(raw_type)
        except ValueError as exc:
            raise UnsupportedError(f"{_WHAT}: user-defined link type {raw_type}") from exc
        if link_type == LinkType.HARD:
            return cls(name, cur.u64(), creation_order=creation_order)
        data = ByteCursor(cur.read(cur.u16()), f"{_WHAT} value")
        if link_type == LinkType.SOFT:
            target = _decode_text(data.read(data.remaining), "soft link target")
            return cls(name, link_type=link_type, target=target, creation_order=creation_order)
        if data.u8() != _EXTERNAL_VERSION:
            raise _error("external link version/flags")
        file_name = _decode_text(data.cstring(), "external file name")
        target = _decode_text(data.cstring(), "external object path")
        return cls(name, UNDEFINED_ADDRESS, link_type, target, file_name, creation_order)
