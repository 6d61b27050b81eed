"""Whole-file advisory locks compatible with libhdf5's (``flock``, non-blocking).

libhdf5 readers take a shared lock for as long as a file is open; a writer takes an exclusive one.
h5swmr holds the exclusive lock while it builds the file, then downgrades it to shared at
``start_swmr`` so SWMR readers can attach while a second writer still cannot.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Mapping
from enum import Enum

from h5swmr.errors import FileLockedError, StorageError

ENVIRONMENT_VARIABLE = "HDF5_USE_FILE_LOCKING"
_IGNORED_WHEN_BEST_EFFORT = {errno.ENOSYS}
"""As libhdf5 (H5FDsec2.c): best effort forgives a file system without flock (ENOSYS) only;
ENOLCK ("No locks available", NFS without a lock daemon) still fails, as with libhdf5."""


class FileLocking(Enum):
    """File-locking policy, as libhdf5's ``H5Pset_file_locking`` and ``HDF5_USE_FILE_LOCKING``."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    BEST_EFFORT = "best_effort"
    """Lock, but carry on where the file system does not support locks (ENOSYS, ENOLCK)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> FileLocking:
        """Read ``HDF5_USE_FILE_LOCKING`` exactly as libhdf5 (H5F__parse_file_lock_env_var):
        ``FALSE`` or ``0`` turn locks off, ``TRUE`` or ``1`` make a lock failure an error,
        ``BEST_EFFORT`` ignores file systems without locks. Anything else, or nothing, leaves
        libhdf5's default file-access setting, which is best effort (locks on)."""
        value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
        if value in ("FALSE", "0"):
            return cls.DISABLED
        if value in ("TRUE", "1"):
            return cls.ENABLED
        return cls.BEST_EFFORT


def lock(fd: int, path: str, policy: FileLocking, *, exclusive: bool) -> bool:
    """Take a non-blocking lock (or convert the one held); True when a lock is now held."""
    if policy is FileLocking.DISABLED:
        return False
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            raise FileLockedError(
                exc.errno,
                "locked by another process (an HDF5 writer, or a reader, has it open); wait "
                "for it to close the file, or stop it, and try again",
                path,
            ) from exc
        if policy is FileLocking.BEST_EFFORT and exc.errno in _IGNORED_WHEN_BEST_EFFORT:
            return False
        advice = "FALSE" if exc.errno != errno.ENOSYS else "BEST_EFFORT or FALSE"
        raise StorageError(
            exc.errno,
            f"cannot lock: {exc.strerror}; its file system does not support locks "
            f"(as on NFS without a lock daemon): set {ENVIRONMENT_VARIABLE}={advice} to write "
            "without them, as with libhdf5",
            path,
        ) from exc
    return True


def unlock(fd: int) -> None:
    with contextlib.suppress(OSError):  # the lock goes with the descriptor anyway
        fcntl.flock(fd, fcntl.LOCK_UN)
