"""Virtual dataset layout (spec §IV.A.2.i, layout class 3; libhdf5 H5Olayout.c, H5Dvirtual.c
H5D__virtual_store_layout).

The layout message holds only where the mapping list lives: version 4 (libhdf5 1.10+ reads it;
it rejects a virtual layout below version 4), class 3, the address of a global heap collection
(O bytes) and the object's index in it (u32). UNDEF address: no mappings.

The mapping list is one global heap object: encoding version 0 (u8), number of mappings (L), per
mapping the source file name and source dataset name (UTF-8, NUL-terminated; "." is the file
itself, ``%b`` in the file name stands for the block number of a printf-style mapping), the
source selection and the virtual selection (``format/selection.py``), then a lookup3 checksum
(u32) of everything before it.

HDF5 2.0 may write encoding version 1 instead (files whose lower format bound is v200, when it is
no longer): each mapping then starts with a flags byte, and a name flagged as shared is the index
(L) of an earlier mapping whose name it repeats, while the "same file" flag stands for ".". h5swmr
decodes both versions and writes version 0, which every libhdf5 since 1.10 reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.checksum import seal, verified
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.messages.layout import LayoutClass
from h5swmr.format.selection import Selection, decode_selection

_WHAT = "virtual layout message"
_MESSAGE = struct.Struct("<BBQI")  # version, class, heap collection address, object index
_LIST_HEADER = struct.Struct("<BQ")  # encoding version, number of mappings
MAPPING_LIST_VERSION = 0
"""H5O_LAYOUT_VDS_GH_ENC_VERS: what h5swmr writes."""
SHARED_NAMES_VERSION = 1
FILE_NAME_SHARED = 0x01
DATASET_NAME_SHARED = 0x02
SAME_FILE = 0x04
_ENTRY_FLAGS = FILE_NAME_SHARED | DATASET_NAME_SHARED | SAME_FILE


def _error(message: str, what: str = _WHAT) -> FormatError:
    return FormatError(f"{what}: {message}", structure=what)


@dataclass(frozen=True, slots=True)
class VirtualLayoutMessage:
    """Where a virtual dataset's mapping list is: global heap collection address and index."""

    TYPE: ClassVar[MessageType] = MessageType.LAYOUT
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 4
    SIZE: ClassVar[int] = _MESSAGE.size

    heap_address: int = UNDEFINED_ADDRESS
    heap_index: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.heap_address <= UNDEFINED_ADDRESS or not 0 <= self.heap_index < 1 << 32:
            raise _error(f"heap address {self.heap_address}, index {self.heap_index}")

    @property
    def size(self) -> int:
        return self.SIZE

    def encode(self) -> bytes:
        return _MESSAGE.pack(self.VERSION, LayoutClass.VIRTUAL, self.heap_address, self.heap_index)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version, layout_class, address, index = cur.unpack(_MESSAGE)
        if layout_class != LayoutClass.VIRTUAL:
            raise _error(f"layout class {layout_class}, not virtual")
        if version not in (4, 5):
            raise _error(f"version {version}: virtual layouts are versions 4 and 5")
        return cls(address, index)


def is_virtual_layout(buf: BytesLike) -> bool:
    """True when the layout message body ``buf`` describes a virtual dataset."""
    return len(buf) >= 2 and buf[1] == LayoutClass.VIRTUAL


@dataclass(frozen=True, slots=True)
class VirtualMapping:
    """Elements ``source_selection`` of dataset ``source_dataset`` in file ``source_file`` appear
    at ``virtual_selection`` of the virtual dataset (both select the same number of elements)."""

    source_file: str
    source_dataset: str
    source_selection: Selection
    virtual_selection: Selection

    def __post_init__(self) -> None:
        for name in (self.source_file, self.source_dataset):
            if not name or "\x00" in name:
                raise _error(f"source name {name!r}: non-empty, without NUL", "virtual mapping")
            try:
                name.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _error(f"source name {name!r} is not UTF-8", "virtual mapping") from exc

    def encode(self) -> bytes:
        return b"".join(
            (
                self.source_file.encode("utf-8") + b"\x00",
                self.source_dataset.encode("utf-8") + b"\x00",
                self.source_selection.encode(),
                self.virtual_selection.encode(),
            )
        )


@dataclass(frozen=True, slots=True)
class VirtualMappingList:
    """The global heap object a virtual layout points at: every mapping, checksummed."""

    VERSION: ClassVar[int] = MAPPING_LIST_VERSION

    mappings: tuple[VirtualMapping, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "mappings", tuple(self.mappings))

    def encode(self) -> bytes:
        body = _LIST_HEADER.pack(self.VERSION, len(self.mappings))
        return seal(body + b"".join(m.encode() for m in self.mappings))

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        what = "virtual mapping list"
        body = verified(buf, what=what)
        cur = ByteCursor(body, what)
        version, count = cur.unpack(_LIST_HEADER)
        if version not in (cls.VERSION, SHARED_NAMES_VERSION):
            raise _error(f"encoding version {version}, expected 0 or 1", what)
        if count > cur.remaining:
            raise _error(f"{count} mappings in {cur.remaining} bytes", what)
        mappings: list[VirtualMapping] = []
        for _ in range(count):
            flags = cur.u8() if version == SHARED_NAMES_VERSION else 0
            if flags & ~_ENTRY_FLAGS or (flags & SAME_FILE and flags & FILE_NAME_SHARED):
                raise _error(f"mapping {len(mappings)}: flags {flags:#x}", what)
            if flags & SAME_FILE:
                file_name = "."
            elif flags & FILE_NAME_SHARED:
                file_name = _earlier(mappings, cur.u64()).source_file
            else:
                file_name = _text(cur.cstring(), "source file name")
            if flags & DATASET_NAME_SHARED:
                dataset_name = _earlier(mappings, cur.u64()).source_dataset
            else:
                dataset_name = _text(cur.cstring(), "source dataset name")
            source = decode_selection(cur)
            virtual = decode_selection(cur)
            mappings.append(VirtualMapping(file_name, dataset_name, source, virtual))
        if cur.remaining:
            raise _error(f"{cur.remaining} bytes after {count} mappings", what)
        return cls(tuple(mappings))


def _earlier(mappings: list[VirtualMapping], index: int) -> VirtualMapping:
    """The mapping a shared name points back to: one decoded already."""
    if index >= len(mappings):
        raise _error(
            f"mapping {len(mappings)} shares the name of mapping {index}", "virtual mapping list"
        )
    return mappings[index]


def _text(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"{field} is not UTF-8", "virtual mapping list") from exc
