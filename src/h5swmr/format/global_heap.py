"""Global heap collection "GCOL" (spec §III.E; libhdf5 H5HGcache.c, H5HGpkg.h).

A collection is a block of at least 4096 bytes: a 16-byte header (signature, version 1, three
reserved bytes, collection size), then objects aligned to 8 bytes, each with a 16-byte header
(index u16, reference count u16, four reserved bytes, size in bytes) followed by its data padded
to a multiple of 8. Object index 0 is the free space: its size counts its own header and runs to
the end of the collection. A tail too small for an object header (under 16 bytes) is free space
with no header. Nothing is checksummed. h5swmr uses it for the mapping list of virtual datasets
(H5Dvirtual.c H5D__virtual_store_layout), which names it by (collection address, object index).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from h5swmr.errors import FormatError
from h5swmr.format.cursor import ByteCursor, BytesLike

SIGNATURE = b"GCOL"
MIN_COLLECTION_SIZE = 4096
"""H5HG_MINSIZE: libhdf5 never makes a smaller collection, and reads 4096 bytes speculatively."""
ALIGNMENT = 8
FREE_SPACE_INDEX = 0

_HEADER = struct.Struct("<4sB3xQ")  # signature, version, reserved, collection size
_OBJECT_HEADER = struct.Struct("<HH4xQ")  # index, reference count, reserved, size
_WHAT = "global heap collection"
_VL_REFERENCE = struct.Struct("<IQI")  # length, collection address, object index
VL_REFERENCE_SIZE = _VL_REFERENCE.size
"""Bytes of one variable-length element as a dataset or attribute stores it (H5Tvlen.c)."""


def decode_vl_reference(buf: BytesLike, offset: int = 0) -> tuple[int, int, int]:
    """(length, global heap collection address, object index) of the variable-length element at
    ``offset`` of ``buf``: where its bytes live."""
    cur = ByteCursor(buf, "variable-length reference")
    cur.skip(offset)
    length, address, index = cur.unpack(_VL_REFERENCE)
    return int(length), int(address), int(index)


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def object_size(nbytes: int) -> int:
    """Bytes an object of ``nbytes`` data takes in a collection: its header and aligned data."""
    return _OBJECT_HEADER.size + _aligned(nbytes)


@dataclass(frozen=True, slots=True)
class GlobalHeapObject:
    """One object of a collection: its index (1..65535), reference count and data."""

    index: int
    data: bytes
    reference_count: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))
        if not 1 <= self.index <= 0xFFFF:
            raise _error(f"object index {self.index} must be in 1..65535")
        if not 0 <= self.reference_count <= 0xFFFF:
            raise _error(f"object {self.index}: reference count {self.reference_count}")

    @property
    def size(self) -> int:
        """Bytes the object takes in its collection: header and aligned data."""
        return object_size(len(self.data))


def _encode(entries: Iterable[tuple[int, int, bytes]], collection_size: int) -> bytes:
    """Header, objects (index, reference count, data) and the free space after them."""
    parts = [_HEADER.pack(SIGNATURE, GlobalHeapCollection.VERSION, collection_size)]
    used = _HEADER.size
    for index, reference_count, data in entries:
        parts += (
            _OBJECT_HEADER.pack(index, reference_count, len(data)),
            data,
            bytes(_aligned(len(data)) - len(data)),
        )
        used += object_size(len(data))
    free = collection_size - used
    if free >= _OBJECT_HEADER.size:
        parts.append(_OBJECT_HEADER.pack(FREE_SPACE_INDEX, 0, free))
        free -= _OBJECT_HEADER.size
    parts.append(bytes(free))
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class GlobalHeapCollection:
    """A GCOL block holding ``objects``; ``collection_size`` 0 means the smallest that fits
    (at least 4096 bytes), which ``__post_init__`` resolves."""

    VERSION: ClassVar[int] = 1
    HEADER_SIZE: ClassVar[int] = _HEADER.size

    objects: tuple[GlobalHeapObject, ...]
    collection_size: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", tuple(self.objects))
        indices = [o.index for o in self.objects]
        if len(set(indices)) != len(indices):
            raise _error(f"duplicate object indices {indices}")
        needed = self.HEADER_SIZE + sum(o.size for o in self.objects)
        size = self.collection_size or max(MIN_COLLECTION_SIZE, _aligned(needed))
        if size < max(MIN_COLLECTION_SIZE, needed) or size % ALIGNMENT:
            raise _error(f"collection size {size} for {needed} bytes of objects")
        object.__setattr__(self, "collection_size", size)

    @property
    def size(self) -> int:
        return self.collection_size

    def object(self, index: int) -> GlobalHeapObject:
        """The object with ``index``, or FormatError naming the indices present."""
        for obj in self.objects:
            if obj.index == index:
                return obj
        raise _error(f"no object {index} (objects {[o.index for o in self.objects]})")

    def encode(self) -> bytes:
        entries = ((o.index, o.reference_count, o.data) for o in self.objects)
        return _encode(entries, self.collection_size)

    @classmethod
    def encode_numbered(cls, datas: Sequence[bytes], collection_size: int) -> bytes:
        """The bytes of a collection holding ``datas`` as objects 1, 2, ... with reference
        count 0, as libhdf5 writes new variable-length data; what ``encode`` gives for those
        objects, without building one record per object (a dataset may hold millions)."""
        if len(datas) > 0xFFFF:
            raise _error(f"{len(datas)} objects; a collection holds at most 65535")
        needed = cls.HEADER_SIZE + sum(object_size(len(d)) for d in datas)
        if collection_size < max(MIN_COLLECTION_SIZE, needed) or collection_size % ALIGNMENT:
            raise _error(f"collection size {collection_size} for {needed} bytes of objects")
        return _encode(((i, 0, d) for i, d in enumerate(datas, 1)), collection_size)

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        """Decode the collection that starts ``buf`` (which may run past its end)."""
        cur = ByteCursor(buf, _WHAT)
        signature, version = cur.read(4), cur.u8()
        cur.skip(3)
        size = cur.u64()
        if signature != SIGNATURE:
            raise FormatError(
                f"{_WHAT}: signature {signature!r} at address {address}, expected GCOL",
                structure=_WHAT,
                address=address,
            )
        if version != cls.VERSION:
            raise _error(f"version {version}, expected {cls.VERSION}")
        if size < MIN_COLLECTION_SIZE:
            raise _error(f"collection size {size}, below {MIN_COLLECTION_SIZE}")
        if size > len(buf):
            cur.skip(size)  # raises TruncatedError naming the collection
        objects: list[GlobalHeapObject] = []
        while size - cur.offset >= _OBJECT_HEADER.size:
            index, refcount, nbytes = cur.unpack(_OBJECT_HEADER)
            if index == FREE_SPACE_INDEX:
                break
            if cur.offset + _aligned(nbytes) > size:
                raise _error(f"object {index} of {nbytes} bytes runs past the collection")
            data = cur.read(nbytes)
            cur.skip(_aligned(nbytes) - nbytes)
            objects.append(GlobalHeapObject(index, data, refcount))
        return cls(tuple(objects), size)

    @staticmethod
    def encoded_size(buf: BytesLike) -> int:
        """The collection size stored in the header that starts ``buf``."""
        cur = ByteCursor(buf, _WHAT)
        cur.skip(8)
        return cur.u64()


_REFERENCE = _VL_REFERENCE
_REFERENCE_DTYPE = np.dtype([("length", "<u4"), ("address", "<u8"), ("index", "<u4")])


@dataclass(frozen=True, slots=True)
class VariableLengthReference:
    """One element of variable-length data (spec §IV.A.2.d, class 9; libhdf5 H5Tvlen.c
    H5T__vlen_disk_write): the data's length (bytes, for strings), then the global heap ID of
    the object holding it, the collection's address and the object's index. libhdf5 stores an
    object even for an empty string, so a reader never meets address 0 from it."""

    SIZE: ClassVar[int] = _REFERENCE.size

    length: int
    collection_address: int
    object_index: int

    def __post_init__(self) -> None:
        if not (
            0 <= self.length < 1 << 32
            and 0 <= self.collection_address < 1 << 64
            and 0 <= self.object_index < 1 << 32
        ):
            raise FormatError(f"variable-length reference {self}", structure="vlen reference")

    def encode(self) -> bytes:
        return _REFERENCE.pack(self.length, self.collection_address, self.object_index)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, "variable-length reference")
        return cls(*cur.unpack(_REFERENCE))

    @staticmethod
    def encode_many(
        lengths: Sequence[int], addresses: Sequence[int], indices: Sequence[int]
    ) -> bytes:
        """The references of many elements at once (equal to joining each one's ``encode``)."""
        records = np.empty(len(lengths), _REFERENCE_DTYPE)
        try:
            records["length"], records["address"], records["index"] = lengths, addresses, indices
        except (OverflowError, ValueError) as exc:
            raise FormatError(
                f"variable-length references: {exc}", structure="vlen reference"
            ) from exc
        return records.tobytes()

    @staticmethod
    def decode_many(buf: BytesLike) -> tuple[list[int], list[int], list[int]]:
        """Lengths, collection addresses and object indices of the references filling ``buf``."""
        if len(buf) % _REFERENCE.size:
            raise FormatError(
                f"variable-length references: {len(buf)} bytes, not a multiple of 16",
                structure="vlen reference",
            )
        records = np.frombuffer(buf, _REFERENCE_DTYPE)
        lengths: list[int] = records["length"].tolist()
        addresses: list[int] = records["address"].tolist()
        indices: list[int] = records["index"].tolist()
        return lengths, addresses, indices
