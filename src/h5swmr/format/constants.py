"""Format facts used by more than one structure (HDF5 File Format Specification v3.0)."""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final

SIZE_OF_OFFSETS: Final = 8
SIZE_OF_LENGTHS: Final = 8
UNDEFINED_ADDRESS: Final = 0xFFFF_FFFF_FFFF_FFFF
UNLIMITED: Final = 0xFFFF_FFFF_FFFF_FFFF
CHECKSUM_SIZE: Final = 4


class MessageType(IntEnum):
    """Object header message types (spec §IV.A.2)."""

    NIL = 0x0000
    DATASPACE = 0x0001
    LINK_INFO = 0x0002
    DATATYPE = 0x0003
    FILL_VALUE_OLD = 0x0004
    FILL_VALUE = 0x0005
    LINK = 0x0006
    EXTERNAL_FILES = 0x0007
    LAYOUT = 0x0008
    BOGUS = 0x0009
    GROUP_INFO = 0x000A
    FILTER_PIPELINE = 0x000B
    ATTRIBUTE = 0x000C
    COMMENT = 0x000D
    MODIFICATION_TIME_OLD = 0x000E
    SHARED_MESSAGE_TABLE = 0x000F
    CONTINUATION = 0x0010
    SYMBOL_TABLE = 0x0011
    MODIFICATION_TIME = 0x0012
    BTREE_K = 0x0013
    DRIVER_INFO = 0x0014
    ATTRIBUTE_INFO = 0x0015
    REFERENCE_COUNT = 0x0016


class MessageFlags(IntFlag):
    """Object header message flags (libhdf5 H5Oprivate.h)."""

    NONE = 0
    CONSTANT = 0x01
    SHARED = 0x02
    DONT_SHARE = 0x04
    FAIL_IF_UNKNOWN_WRITE = 0x08
    MARK_IF_UNKNOWN = 0x10
    WAS_UNKNOWN = 0x20
    SHAREABLE = 0x40
    FAIL_IF_UNKNOWN_ALWAYS = 0x80


class FilterId(IntEnum):
    """Filter identifiers: libhdf5's own below 256, registered plugin ids above."""

    DEFLATE = 1
    SHUFFLE = 2
    FLETCHER32 = 3
    SZIP = 4
    NBIT = 5
    SCALEOFFSET = 6
    BLOSC = 32001
    LZ4 = 32004
    BITSHUFFLE = 32008
    ZSTD = 32015
    BLOSC2 = 32026


class ChunkIndexType(IntEnum):
    """Chunk index types of the layout message v4 (libhdf5 H5Dpublic.h)."""

    BTREE_V1 = 0
    SINGLE_CHUNK = 1
    IMPLICIT = 2
    FIXED_ARRAY = 3
    EXTENSIBLE_ARRAY = 4
    BTREE_V2 = 5
