"""Which file system holds a path, read from mountinfo lines (no NFS server can run here)."""

from __future__ import annotations

import warnings
from pathlib import Path

from h5swmr import SwmrFileWriter, UnorderedFileSystemWarning
from h5swmr.storage.filesystem import file_system_type, is_unordered

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:40 / /data rw,relatime - nfs4 server:/export rw,vers=4.2
41 40 0:41 / /data/local rw,relatime - xfs /dev/sdb1 rw
42 27 0:42 / /mnt/my\\040share rw - cifs //host/share rw
43 27 0:43 / /lustre rw - lustre 10.0.0.1@tcp:/fs rw
"""


def test_longest_mount_point_wins() -> None:
    assert file_system_type("/data/run1/x.h5", MOUNTINFO) == "nfs4"
    assert file_system_type("/data/local/x.h5", MOUNTINFO) == "xfs"
    assert file_system_type("/datax/x.h5", MOUNTINFO) == "ext4"
    assert file_system_type("/mnt/my share/x.h5", MOUNTINFO) == "cifs"
    assert file_system_type("/lustre/a/b.h5", MOUNTINFO) == "lustre"


def test_which_file_systems_keep_swmr_order() -> None:
    assert is_unordered("nfs4") and is_unordered("nfs") and is_unordered("cifs")
    assert not any(is_unordered(t) for t in ("ext4", "xfs", "tmpfs", "lustre", "gpfs", None))


def test_this_machine_and_no_warning_on_a_local_disk(tmp_path: Path) -> None:
    assert file_system_type(str(tmp_path / "x.h5")) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnorderedFileSystemWarning)
        SwmrFileWriter.create(tmp_path / "x.h5").close()
