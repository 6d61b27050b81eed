"""Finding and reading the superblock: wherever a user block put it and whatever its version
(the reader), or at byte 0 as the files of a SWMR writer have it (recover, which rewrites it)."""

from __future__ import annotations

from dataclasses import dataclass

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, NotHdf5FileError, UnsupportedError
from h5swmr.format.superblock import FLAGS_OFFSET, SIGNATURE, Superblock
from h5swmr.format.superblock_v0 import SuperblockV0

_SEARCH_LIMIT = 1 << 40
_V0_SIZE = 100


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the reader keeps from the superblock."""

    superblock_version: int
    root_address: int
    chunk_btree_k: int = 32


def _find_signature(src: FileSource) -> int:
    """The superblock's position in the file: 0, 512, 1024, 2048, ... (after a user block)."""
    address = 0
    while address < min(src.size, _SEARCH_LIMIT):
        if src.read_upto(address, len(SIGNATURE), "superblock") == SIGNATURE:
            return address
        address = 512 if address == 0 else address * 2
    where = "it is empty" if src.size == 0 else "no HDF5 signature at byte 0, 512, 1024, ..."
    raise NotHdf5FileError(f"{src.path!r}: not an HDF5 file ({where})", structure="superblock")


def read_file_info(src: FileSource) -> FileInfo:
    """The superblock, wherever a user block put it; the source then counts addresses from it."""
    address = _find_signature(src)
    src.rebase(address)
    head = src.read_upto(0, 128, "superblock")
    version = head[8] if len(head) > 8 else -1
    if version in (2, 3):
        sb = src.block(0, Superblock.SIZE, Superblock.decode, "superblock")
        _check_base(src, sb.base_address, address)
        return FileInfo(version, sb.root_address)
    if version in (0, 1):
        v0 = SuperblockV0.decode(src.read(0, _V0_SIZE if version else _V0_SIZE - 4, "superblock"))
        _check_base(src, v0.base_address, address)
        return FileInfo(version, v0.root_address, v0.chunk_internal_k)
    raise FormatError(f"{src.path!r}: superblock version {version}", structure="superblock")


def read_superblock_at_start(src: FileSource) -> Superblock:
    """The v2/v3 superblock at byte 0, with the consistency flags a writer left. Recover rewrites
    that block in place, so it looks nowhere else; a file that does not start with the HDF5
    signature is NotHdf5FileError, in the words every command uses."""
    head = src.read_upto(0, len(SIGNATURE), "superblock") if src.size > 0 else b""
    if head != SIGNATURE:
        where = "it is empty" if not head else "no HDF5 signature at its start"
        raise NotHdf5FileError(f"{src.path!r}: not an HDF5 file ({where})", structure="superblock")
    return src.block(0, Superblock.SIZE, Superblock.decode, "superblock")


def _check_base(src: FileSource, base_address: int, superblock_at: int) -> None:
    """libhdf5 makes the base address the superblock's position (0, or after a user block)."""
    if base_address != superblock_at:
        raise UnsupportedError(
            f"{src.path!r}: base address {base_address} with the superblock at {superblock_at}"
        )


def writer_is_active(src: FileSource, info: FileInfo) -> bool:
    """Whether the consistency flags (v3: byte 11) say a writer has the file open."""
    if info.superblock_version < 3:
        return False
    return bool(src.read(FLAGS_OFFSET, 1, "superblock flags")[0] & 0x05)
