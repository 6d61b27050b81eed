"""Superblock version 3 and its file consistency flags (spec §II.A; libhdf5 H5Fsuper_cache.c).

The consistency flags are libhdf5's way to keep a second writer out and to tell SWMR readers that a
SWMR writer is active: 0x05 while h5swmr writes, 0x00 only as the very last write of a clean close.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import ClassVar, Self

from h5swmr.errors import FormatError, NotHdf5FileError, TruncatedError, UnsupportedError
from h5swmr.format.checksum import reseal, seal, verified
from h5swmr.format.constants import (
    CHECKSUM_SIZE,
    SIZE_OF_LENGTHS,
    SIZE_OF_OFFSETS,
    UNDEFINED_ADDRESS,
)
from h5swmr.format.cursor import BytesLike

SIGNATURE = b"\x89HDF\r\n\x1a\n"
FLAGS_OFFSET = 11
"""Byte offset of the consistency flags: the byte a crash recovery clears."""

_LAYOUT = struct.Struct("<8s4B4Q")  # signature .. root object header address: 44 bytes
_ADDRESS = struct.Struct("<Q")


class ConsistencyFlags(IntFlag):
    """File consistency flags (H5Fpkg.h); any other bit makes libhdf5 refuse the file."""

    NONE = 0
    WRITE_ACCESS = 0x01
    FILE_OK = 0x02
    SWMR_WRITE_ACCESS = 0x04
    SWMR_WRITING = WRITE_ACCESS | SWMR_WRITE_ACCESS


@dataclass(frozen=True, slots=True)
class Superblock:
    """Superblock v3: 48 bytes at address 0 (the base address is always 0 for h5swmr files)."""

    VERSION: ClassVar[int] = 3
    SIZE: ClassVar[int] = _LAYOUT.size + CHECKSUM_SIZE
    EOF_OFFSET: ClassVar[int] = struct.calcsize("<8s4BQQ")
    """Where the end-of-file address lies: after the signature, the four version, size and flag
    bytes, and the base and extension addresses (28)."""

    flags: ConsistencyFlags
    eof_address: int
    root_address: int
    extension_address: int = UNDEFINED_ADDRESS
    base_address: int = 0

    def encode(self) -> bytes:
        return seal(
            _LAYOUT.pack(
                SIGNATURE,
                self.VERSION,
                SIZE_OF_OFFSETS,
                SIZE_OF_LENGTHS,
                self.flags,
                self.base_address,
                self.extension_address,
                self.eof_address,
                self.root_address,
            )
        )

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        if bytes(buf[: len(SIGNATURE)]) != SIGNATURE[: len(buf)]:
            raise NotHdf5FileError(
                "superblock: not an HDF5 file (no HDF5 signature)", structure="superblock"
            )
        if len(buf) < cls.SIZE:
            raise TruncatedError(
                f"superblock: {len(buf)} bytes, expected {cls.SIZE}", structure="superblock"
            )
        head = bytes(buf[:12])
        version, offsets, lengths, flags = head[8:12]
        if version in (0, 1):
            raise UnsupportedError(
                f"superblock version {version}: a file in libhdf5's default (pre-1.10) format; "
                "h5swmr writes and appends to the latest format (superblock 2 and 3)",
            )
        if version not in (2, 3) or (offsets, lengths) != (SIZE_OF_OFFSETS, SIZE_OF_LENGTHS):
            raise FormatError(
                f"superblock: version {version} with {offsets}-byte offsets and {lengths}-byte "
                "lengths; h5swmr reads versions 2 and 3 with 8-byte offsets and lengths",
                structure="superblock",
            )
        body = verified(memoryview(buf)[: cls.SIZE], what="superblock", address=0)
        _, _, _, _, _, base, ext, eof, root = _LAYOUT.unpack(body)
        if flags & ~int(ConsistencyFlags.SWMR_WRITING | ConsistencyFlags.FILE_OK):
            raise FormatError(
                f"superblock: bad consistency flags {flags:#x}", structure="superblock"
            )
        return cls(ConsistencyFlags(flags), eof, root, ext, base)

    @classmethod
    def patch_eof(cls, image: bytearray, eof_address: int) -> None:
        """Set the end-of-file address of an encoded superblock in place and reseal it: the bytes
        then equal those of ``with_eof(eof_address).encode()``, for a commit that moves only it."""
        _ADDRESS.pack_into(image, cls.EOF_OFFSET, eof_address)
        reseal(image)

    def with_flags(self, flags: ConsistencyFlags) -> Self:
        return dataclasses.replace(self, flags=flags)

    def with_eof(self, eof_address: int) -> Self:
        return dataclasses.replace(self, eof_address=eof_address)
