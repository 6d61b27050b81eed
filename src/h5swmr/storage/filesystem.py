"""Which file system a path lives on, to warn where SWMR's write ordering does not hold.

SWMR readers rely on POSIX read-after-write ordering between processes. Network file systems
(NFS, SMB/CIFS) and most FUSE mounts do not give it: readers there can see zeros or stale
metadata (HDF Group: SWMR is unsupported on NFS/SMB). Local disks, tmpfs, Lustre and GPFS do.
"""

from __future__ import annotations

from pathlib import Path

UNORDERED_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "9p", "fuse.sshfs", "fuse.gcsfuse", "fuse.s3fs"}
)
MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def file_system_type(path: str, mountinfo: str | None = None) -> str | None:
    """The type of the file system holding ``path`` (``"ext4"``, ``"nfs4"``...), or None where
    the OS does not say (no /proc)."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text()
        except OSError:
            return None
    target = str(Path(path).absolute().parent.resolve())
    best, best_type = -1, None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right:
            continue
        mount_point = _unescape(fields[4])
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > best:
            best, best_type = len(mount_point), right.split()[0]
    return best_type


def is_unordered(fs_type: str | None) -> bool:
    return fs_type is not None and (fs_type in UNORDERED_FILE_SYSTEMS or fs_type.startswith("nfs"))
