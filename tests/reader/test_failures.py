"""File trouble as an OSError (reader/failures.py), as h5py's users expect: a corrupt structure
or an undecodable chunk inside ``reading`` becomes NotReadableError naming what was read, with
the original as its cause; other errors pass unchanged."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import File
from h5swmr.errors import FilterError, FormatError, InvalidArgumentError, NotReadableError
from h5swmr.reader.failures import reading


def test_format_and_filter_errors_become_os_errors() -> None:
    original = FormatError("v2 B-tree node: bad checksum", structure="v2 B-tree", address=96)
    with pytest.raises(NotReadableError) as caught, reading("/entry/data"):
        raise original
    assert isinstance(caught.value, OSError) and isinstance(caught.value, FormatError)
    assert str(caught.value) == "/entry/data: v2 B-tree node: bad checksum"
    assert (caught.value.structure, caught.value.address) == ("v2 B-tree", 96)
    assert caught.value.__cause__ is original
    with (
        pytest.raises(NotReadableError, match=r"^data: chunk \(0,\): bad zlib") as filtered,
        reading("data"),
    ):
        raise FilterError("chunk (0,): bad zlib")
    assert filtered.value.structure == "filtered chunk"


def test_a_message_naming_what_already_is_not_repeated() -> None:
    with pytest.raises(NotReadableError) as caught, reading("/d"):
        raise FormatError("dataset '/d': no layout message")
    assert str(caught.value) == "dataset '/d': no layout message"
    already = NotReadableError("/d: gone")
    with pytest.raises(NotReadableError) as again, reading("/d"):
        raise already
    assert again.value is already


def test_other_errors_pass_unchanged() -> None:
    with pytest.raises(InvalidArgumentError), reading("/d"):
        raise InvalidArgumentError("not file trouble")


def test_a_corrupt_chunk_is_an_os_error_as_in_h5py(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        ds = f.create_dataset("d", data=np.arange(1000), chunks=(1000,), compression="gzip")
        address, size = ds.id.get_chunk_info(0).byte_offset, ds.id.get_chunk_info(0).size
    with tmp_h5.open("r+b") as raw:
        raw.seek(address + size // 2)
        raw.write(b"\xff" * 8)
    with h5py.File(tmp_h5, "r") as f, pytest.raises(OSError):
        f["d"][()]
    with File(tmp_h5) as f, pytest.raises(OSError, match="d"):
        f["d"][()]


@pytest.mark.parametrize(
    ("find", "patch"),
    [
        (b"bbbb\0\0\0\0\x04\0\0\0", b"bbbb\0\0\0\0\x02\0\0\0"),  # overlaps "aaaa"
        (b"bbbb\0\0\0\0\x04\0\0\0", b"bbbb\0\0\0\0\x06\0\0\0"),  # runs past the record
        (b"\x16\x02\0\0\x08\0\0\0", b"\x16\xff\xff\0\x08\0\0\0"),  # 65535 members said
    ],
)
def test_a_hostile_compound_is_a_format_error(tmp_h5: Path, find: bytes, patch: bytes) -> None:
    """A compound datatype (version 1 in a version 1 header: no checksum to mend) whose members
    overlap, leave the record or are far more than the message holds."""
    with h5py.File(tmp_h5, "w") as f:
        f.create_dataset("d", data=np.zeros(4, [("aaaa", "<u4"), ("bbbb", "<u4")]))
    raw = tmp_h5.read_bytes()
    assert raw.count(find) == 1
    tmp_h5.write_bytes(raw.replace(find, patch))
    with File(tmp_h5) as f, pytest.raises(FormatError, match=r"compound|datatype"):
        f["d"][()]
