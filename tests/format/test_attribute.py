"""Attribute messages (versions 1 and 3), decoded from h5py-written files, values as h5py reads."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import pytest

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.object_header import ObjectHeader
from h5swmr.format.superblock import Superblock
from h5swmr.format.superblock_v0 import SuperblockV0
from tests.format.real_files import check_corruption, default_file, latest_file
from tests.format.test_object_header_v1 import header_messages

__all__ = ["default_file", "latest_file"]


def _default_attributes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    _, messages = header_messages(data, SuperblockV0.decode(data[:96]).root_address)
    return [m.body for m in messages if m.type == MessageType.ATTRIBUTE]


def _latest_attributes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    address = Superblock.decode(data[: Superblock.SIZE]).root_address
    header = ObjectHeader.decode(
        data[address : address + ObjectHeader.encoded_size(data[address:])]
    )
    return [m.body for m in header.messages if m.type == MessageType.ATTRIBUTE]


def _value(message: AttributeMessage) -> npt.NDArray[Any] | np.generic:
    array = np.frombuffer(message.data, message.datatype.to_numpy())
    return array.reshape(message.dataspace.dims) if message.dataspace.dims else array[0]


@pytest.mark.parametrize("fmt", ["default", "latest"])
def test_values_match_h5py(fmt: str, default_file: Path, latest_file: Path) -> None:
    path = default_file if fmt == "default" else latest_file
    bodies = _default_attributes(path) if fmt == "default" else _latest_attributes(path)
    messages = [AttributeMessage.decode(b) for b in bodies]
    with h5py.File(path, "r") as f:
        assert sorted(m.name for m in messages) == sorted(f.attrs)
        for message in messages:
            want = f.attrs[message.name]
            got = _value(message)
            assert np.asarray(got).dtype == np.asarray(want).dtype, message.name
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), message.name
            assert np.shape(got) == np.shape(want), message.name
    assert {b[0] for b in bodies} == ({1} if fmt == "default" else {3})


@pytest.mark.parametrize("fmt", ["default", "latest"])
def test_corruption(fmt: str, default_file: Path, latest_file: Path) -> None:
    bodies = (
        _default_attributes(default_file) if fmt == "default" else _latest_attributes(latest_file)
    )
    for body in bodies:
        exact = _exact(body)
        check_corruption(AttributeMessage.decode, exact, checksummed=False, garbage_rounds=30)


def _exact(body: bytes) -> bytes:
    """The message without the padding the object header adds after it."""
    message = AttributeMessage.decode(body)
    exact = body[: len(body) - _trailing(body, message)]
    version, _, name, datatype, dataspace = struct.unpack_from("<BBHHH", body)
    sizes = [name, datatype, dataspace]
    if version == 1:
        sizes = [(n + 7) // 8 * 8 for n in sizes]
    assert len(exact) == 8 + (version == 3) + sum(sizes) + len(message.data)
    return exact


def _trailing(body: bytes, message: AttributeMessage) -> int:
    n = len(body)
    while n:
        try:
            if AttributeMessage.decode(body[: n - 1]) != message:
                break
        except FormatError:
            break
        n -= 1
    return len(body) - n


def test_truncated_value_is_an_error(latest_file: Path) -> None:
    body = _exact(next(b for b in _latest_attributes(latest_file) if b"vec" in b))
    with pytest.raises(FormatError):
        AttributeMessage.decode(body[:-1])


def test_bad_version_and_shared_type(latest_file: Path) -> None:
    body = bytearray(_exact(_latest_attributes(latest_file)[0]))
    for version in (0, 4):
        body[0] = version
        with pytest.raises(FormatError):
            AttributeMessage.decode(bytes(body))
    body[0], body[1] = 3, 0x01
    with pytest.raises(UnsupportedError):
        AttributeMessage.decode(bytes(body))


def test_non_utf8_name() -> None:
    datatype = bytes([0x10, 0, 0, 0]) + struct.pack("<I", 1) + struct.pack("<HH", 0, 8)
    dataspace = bytes([2, 0, 0, 0])  # version 2, rank 0: scalar
    raw = struct.pack("<BBHHH", 3, 0, 2, len(datatype), len(dataspace)) + b"\x00\xff\x00"
    raw += datatype + dataspace + b"\x07"
    with pytest.raises(FormatError):
        AttributeMessage.decode(raw)
    fixed = struct.pack("<BBHHH", 3, 0, 2, len(datatype), len(dataspace)) + b"\x00a\x00"
    message = AttributeMessage.decode(fixed + datatype + dataspace + b"\x07")
    assert (message.name, message.data) == ("a", b"\x07")
