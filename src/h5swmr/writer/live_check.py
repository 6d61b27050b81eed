"""Live files and other programs: ``create`` must not truncate a file whose superblock says a
writer has it open, and a writer must notice when another program truncated its own file.

A libhdf5 SWMR writer drops its file lock once it sets ``swmr_mode``, so the lock alone cannot
protect its file: truncating it would destroy a live acquisition (the writer hangs, the file is
left unreadable). Its superblock (version 2 or 3, the only ones SWMR uses) keeps the write-access
flags set until a clean close, which is what is checked here. A crashed writer leaves them set
too: ``recover`` keeps its frames, ``overwrite=True`` replaces it on purpose.
"""

from __future__ import annotations

from typing import Final

from h5swmr.errors import FileLockedError, StorageError
from h5swmr.format.superblock import FLAGS_OFFSET, SIGNATURE, ConsistencyFlags
from h5swmr.storage.file import FileHandle

FIRST_USER_BLOCK: Final = 512
"""libhdf5 looks for the superblock at 0, 512, 1024, 2048... (after a user block)."""


def superblock_flags(handle: FileHandle) -> int:
    """The consistency flags of the file's version 2 or 3 superblock, 0 for older versions, a
    file without a superblock or one too short to hold it."""
    size = handle.physical_size
    position = 0
    while position + FLAGS_OFFSET < size:
        head = handle.pread(position, FLAGS_OFFSET + 1)
        if head[: len(SIGNATURE)] == SIGNATURE:
            return head[FLAGS_OFFSET] if len(head) > FLAGS_OFFSET and head[8] >= 2 else 0
        position = FIRST_USER_BLOCK if position == 0 else position * 2
    return 0


def refuse_live_file(handle: FileHandle, path: str) -> None:
    """FileLockedError if the superblock says a writer (SWMR or not) has the file open."""
    flags = superblock_flags(handle) & ConsistencyFlags.SWMR_WRITING
    if not flags:
        return
    who = "a SWMR writer" if flags & ConsistencyFlags.SWMR_WRITE_ACCESS else "a writer"
    raise FileLockedError(
        f"{path!r}: its superblock says {who} has it open (consistency flags {flags:#04x}); "
        "a live SWMR writer holds no lock, so replacing the file could destroy its data. If "
        "its writer crashed, run h5swmr.recover() or `h5swmr recover` to keep its frames; to "
        "replace it on purpose pass overwrite=True (CLI: --overwrite)"
    )


def check_not_cut(
    handle: FileHandle, committed_eoa: int, observed: tuple[int, bytes] | None = None
) -> None:
    """StorageError if the writer's file was truncated since its last commit.

    libhdf5's ``H5Fcreate`` (``h5py.File(path, "w")``) opens with O_TRUNC before it tries the
    lock, so it empties a file h5swmr is writing and only then fails. The file is never shorter
    than the last commit's end while h5swmr owns it, and its superblock is never zeros; checked
    before each commit (an lseek and an 8-byte pread), so the writer raises at its next flush or
    close instead of reporting success over a file that lost its frames. ``observed``: the
    ``size_and_head`` the caller already read.
    """
    size, head = observed or handle.size_and_head(len(SIGNATURE))
    if size < committed_eoa or head != SIGNATURE:
        raise StorageError(
            f"{handle.path!r} was truncated by another program while this writer had it open "
            f"({size} bytes, {committed_eoa} at the last flush; was it opened with "
            'h5py.File(path, "w")?): the frames written to it are lost. Nothing more is '
            "written; see docs/crash-safety.md"
        )
