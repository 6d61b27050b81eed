"""Version 2 B-trees (spec §III.A.2; libhdf5 H5B2cache.c, H5B2hdr.c, H5B2int.c).

- BTHD: ``BTHD``, version 0, type, node size (u32), record size (u16), depth (u16), split and
  merge percent (u8 each), root address (O), records in root (u16), total records (L), checksum.
- BTIN: ``BTIN``, version 0, type, records, then one child pointer more than records: address
  (O), records in the child (width for the child's level) and, below depth 1, the records in the
  child's whole subtree (cumulative width); checksum.
- BTLF: ``BTLF``, version 0, type, records, checksum.

Record types read here: 5 (link names of dense groups), 10 (unfiltered chunks), 11 (filtered).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.checksum import verified
from h5swmr.format.constants import CHECKSUM_SIZE
from h5swmr.format.cursor import ByteCursor, BytesLike

HEADER_SIGNATURE = b"BTHD"
INTERNAL_SIGNATURE = b"BTIN"
LEAF_SIGNATURE = b"BTLF"
_HEADER = struct.Struct("<4sBBIHHBBQHQ")
_NODE_START = struct.Struct("<4sBB")
_PREFIX_SIZE = _NODE_START.size + CHECKSUM_SIZE
MAX_DEPTH = 32


def _enc_size(n: int) -> int:
    """Bytes that hold ``n`` (H5VM_limit_enc_size)."""
    return (max(n, 1).bit_length() - 1) // 8 + 1


@functools.cache
def _geometry(
    node_size: int, record_size: int, depth: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per level: max records in a node, and the width of cumulative record counts
    (H5B2__hdr_init: H5B2_NUM_INT_REC, H5B2_INT_POINTER_SIZE)."""
    leaf_max = (node_size - _PREFIX_SIZE) // record_size
    max_records = [leaf_max]
    cumulative = [leaf_max]
    cum_sizes = [0]
    for level in range(1, depth + 1):
        pointer = 8 + _enc_size(leaf_max) + (cum_sizes[level - 1] if level > 1 else 0)
        n = (node_size - _PREFIX_SIZE - pointer) // (record_size + pointer)
        if n < 1:
            raise FormatError(f"v2 B-tree: node size {node_size} holds no records")
        max_records.append(n)
        cumulative.append((n + 1) * cumulative[level - 1] + n)
        cum_sizes.append(_enc_size(cumulative[level]))
    return tuple(max_records), tuple(cum_sizes)


HUGE_OBJECT_RECORDS = 1
"""Record type 1: huge objects of an unfiltered fractal heap, by key: address, length, key."""
LINK_NAME_RECORDS = 5
CHUNK_UNFILTERED = 10
CHUNK_FILTERED = 11
ATTRIBUTE_NAME_RECORDS = 8
ATTRIBUTE_HEAP_ID_SIZE = 8
"""An attribute name record (type 8): heap ID, message flags (1), creation order (4), name hash
(4); a link name record (type 5): name hash (4), heap ID."""
_NAME_HASH_SIZE = 4


def link_name_record_size(heap_id_length: int) -> int:
    return _NAME_HASH_SIZE + heap_id_length


def link_name_record_heap_id(raw: bytes) -> bytes:
    """The heap ID of a type 5 record (after the name hash)."""
    return raw[_NAME_HASH_SIZE:]


ATTRIBUTE_NAME_RECORD_SIZE = ATTRIBUTE_HEAP_ID_SIZE + 1 + 4 + _NAME_HASH_SIZE


def decode_attribute_name_record(raw: bytes) -> tuple[bytes, int]:
    """(heap ID, message flags) of a type 8 record."""
    if len(raw) < ATTRIBUTE_NAME_RECORD_SIZE:
        raise FormatError(f"v2 B-tree attribute name record: {len(raw)} bytes")
    return raw[:ATTRIBUTE_HEAP_ID_SIZE], raw[ATTRIBUTE_HEAP_ID_SIZE]


_HUGE_OBJECT = struct.Struct("<QQQ")
HUGE_OBJECT_RECORD_SIZE = _HUGE_OBJECT.size


def decode_huge_object_record(raw: BytesLike) -> tuple[int, int, int]:
    """A type 1 record: (address, length, key) of a huge fractal heap object."""
    address, length, key = ByteCursor(raw, "v2 B-tree huge object record").unpack(_HUGE_OBJECT)
    return int(address), int(length), int(key)


def chunk_record_size(rank: int, size_width: int, *, filtered: bool) -> int:
    """Bytes of a type 10 (unfiltered) or 11 (filtered) record of a rank ``rank`` dataset."""
    return 8 + (size_width + 4 if filtered else 0) + 8 * rank


def decode_chunk_record(
    raw: BytesLike, rank: int, size_width: int, *, filtered: bool
) -> tuple[tuple[int, ...], int, int, int]:
    """A type 10 or 11 record: (scaled coordinates, chunk address, stored size, filter mask)."""
    cur = ByteCursor(raw, "v2 B-tree chunk record")
    address = cur.u64()
    size, mask = (cur.uint(size_width), cur.u32()) if filtered else (0, 0)
    return tuple(cur.u64() for _ in range(rank)), address, size, mask


@dataclass(frozen=True, slots=True)
class BTreeV2Header:
    """BTHD: tree shape; the node geometry follows from node size, record size and depth."""

    SIZE: ClassVar[int] = _HEADER.size + CHECKSUM_SIZE

    tree_type: int
    node_size: int
    record_size: int
    depth: int
    root_address: int
    root_records: int
    total_records: int

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        what = "v2 B-tree header"
        body = verified(ByteCursor(buf, what).read(cls.SIZE), what=what, address=address)
        sig, version, kind, node, rec, depth, _, _, root, n_root, total = _HEADER.unpack(body)
        if sig != HEADER_SIGNATURE or version != 0:
            raise FormatError(f"{what}: {sig!r} v{version}", structure=what, address=address)
        if not 0 < rec < node - _PREFIX_SIZE or depth > MAX_DEPTH or node > 1 << 24:
            raise FormatError(f"{what}: node size {node}, record size {rec}, depth {depth}")
        return cls(kind, node, rec, depth, root, n_root, total)

    def max_records(self, level: int) -> int:
        return _geometry(self.node_size, self.record_size, self.depth)[0][level]

    def count_widths(self, level: int) -> tuple[int, int]:
        """Widths of a child pointer's record count and subtree count in a node at ``level``."""
        max_records, cum_sizes = _geometry(self.node_size, self.record_size, self.depth)
        return _enc_size(max_records[0]), cum_sizes[level - 1] if level > 1 else 0


@dataclass(frozen=True, slots=True)
class BTreeV2Node:
    """A decoded node: raw records, and (internal nodes) children as (address, records)."""

    records: tuple[bytes, ...]
    children: tuple[tuple[int, int], ...]

    @classmethod
    def decode(
        cls,
        buf: BytesLike,
        header: BTreeV2Header,
        level: int,
        n_records: int,
        *,
        address: int | None = None,
    ) -> Self:
        """Node at ``level`` (0 = leaf) holding ``n_records``, as its parent says."""
        what = "v2 B-tree leaf" if level == 0 else "v2 B-tree internal node"
        if not 0 <= n_records <= header.max_records(level):
            raise FormatError(f"{what}: {n_records} records", structure=what, address=address)
        count_width, total_width = header.count_widths(level) if level else (0, 0)
        size = _NODE_START.size + n_records * header.record_size + CHECKSUM_SIZE
        if level:
            size += (n_records + 1) * (8 + count_width + total_width)
        body = verified(ByteCursor(buf, what).read(size), what=what, address=address)
        cur = ByteCursor(body, what)
        sig, version, kind = cur.unpack(_NODE_START)
        expected = INTERNAL_SIGNATURE if level else LEAF_SIGNATURE
        if sig != expected or version != 0 or kind != header.tree_type:  # type: ignore[comparison-overlap]
            raise FormatError(f"{what}: {sig!r} v{version} type {kind}", structure=what)
        records = tuple(cur.read(header.record_size) for _ in range(n_records))
        children = []
        if level:
            for _ in range(n_records + 1):
                child, count = cur.u64(), cur.uint(count_width)
                cur.skip(total_width)
                children.append((child, count))
        return cls(records, tuple(children))

    @staticmethod
    def size(header: BTreeV2Header) -> int:
        """Bytes to read for any node: libhdf5 allocates node_size for each."""
        return header.node_size
