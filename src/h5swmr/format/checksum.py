"""HDF5's metadata checksum: Bob Jenkins' lookup3 ``hashlittle`` with initval 0 (H5checksum.c).

The compiled implementation from numcodecs does the work (about 3 us per 8 KiB against more than a
millisecond in plain Python); everything else in h5swmr goes through the functions here: ``seal``
a new block, ``reseal`` one patched in place, ``verified`` on the way in.
"""

from __future__ import annotations

import struct

from numcodecs.jenkins import jenkins_lookup3

from h5swmr.errors import ChecksumError, TruncatedError
from h5swmr.format.constants import CHECKSUM_SIZE
from h5swmr.format.cursor import BytesLike

_U32 = struct.Struct("<I")
_pack_u32_into = _U32.pack_into


def lookup3(data: BytesLike, initval: int = 0) -> int:
    """lookup3 ``hashlittle`` of ``data``."""
    return jenkins_lookup3(data, initval)  # type: ignore[no-any-return]  # a Python int


def seal(body: BytesLike) -> bytes:
    """``body`` followed by its little-endian lookup3 checksum, as every checksummed block ends."""
    return bytes(body) + _U32.pack(lookup3(body))


def reseal(block: bytearray) -> None:
    """Recompute the checksum that ends ``block``, in place, after a field of its body was patched:
    the bytes equal ``seal(body)`` of the patched body, without a copy of it."""
    end = len(block) - CHECKSUM_SIZE
    _pack_u32_into(block, end, jenkins_lookup3(memoryview(block)[:end], 0))  # lookup3, inlined


def reseal_body(block: bytearray, body: memoryview) -> None:
    """``reseal(block)`` given ``body``, a view of ``block`` without its checksum, made once for
    a block resealed at every commit (no view to make each time)."""
    _pack_u32_into(block, len(body), jenkins_lookup3(body, 0))


def verified(block: BytesLike, *, what: str, address: int | None = None) -> memoryview:
    """The body of a sealed ``block`` (checksum removed), or ChecksumError naming ``what``."""
    view = memoryview(block).cast("B")
    if len(view) < CHECKSUM_SIZE:
        raise TruncatedError(f"{what}: {len(view)} bytes, too short for a checksum", structure=what)
    body = view[:-CHECKSUM_SIZE]
    stored = _U32.unpack_from(view, len(view) - CHECKSUM_SIZE)[0]
    computed = lookup3(body)
    if stored != computed:
        where = f" at address {address}" if address is not None else ""
        raise ChecksumError(
            f"{what}{where}: checksum {stored:#010x} stored, {computed:#010x} computed",
            structure=what,
            address=address,
        )
    return body
