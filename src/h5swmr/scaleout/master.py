"""Master files: small, closed HDF5 files holding virtual datasets (and external links) that
present the frames of many h5swmr part files as one dataset, written with h5swmr's own encoders.

A master is encoded whole (superblock v3, compact groups, one object header per virtual dataset,
one global heap collection with every mapping list) and put in place atomically: written to a
temporary name beside it, then ``os.replace``d. A reader that has the old master open keeps its
old inode; a reader that opens afterwards sees the new one; nobody sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.global_heap import GlobalHeapCollection, GlobalHeapObject
from h5swmr.format.messages.base import Message
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.format.messages.fill_value import AllocTime, FillTime, FillValueMessage
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.messages.virtual_layout import (
    VirtualLayoutMessage,
    VirtualMapping,
    VirtualMappingList,
)
from h5swmr.format.object_header import ObjectHeader, RawMessage
from h5swmr.format.paths import split_path
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.writer.headers import compact_group_header, fitted_header, raw_message


@dataclass(frozen=True, slots=True)
class VirtualDataset:
    """A virtual dataset at ``path``: its dtype, current ``shape``, ``maxshape`` (None for
    unlimited) and the mappings that fill it; elements no mapping covers read as ``fillvalue``."""

    path: str
    dtype: np.dtype
    shape: tuple[int, ...]
    maxshape: tuple[int | None, ...]
    mappings: tuple[VirtualMapping, ...]
    fillvalue: float | int | None = None

    @classmethod
    def create(
        cls,
        path: str,
        dtype: DTypeLike,
        shape: Sequence[int],
        mappings: Iterable[VirtualMapping],
        *,
        maxshape: Sequence[int | None] | None = None,
        fillvalue: float | None = None,
    ) -> VirtualDataset:
        shape = tuple(int(d) for d in shape)
        maxshape = tuple(maxshape) if maxshape is not None else (None, *shape[1:])
        return cls(path, np.dtype(dtype), shape, maxshape, tuple(mappings), fillvalue)

    def header_messages(self, heap_address: int, heap_index: int) -> tuple[RawMessage, ...]:
        maxdims = tuple(UNLIMITED if m is None else m for m in self.maxshape)
        fill = None
        if self.fillvalue is not None:
            fill = np.asarray(self.fillvalue, dtype=self.dtype.newbyteorder("<")).tobytes()
        messages: list[Message] = [
            DataspaceMessage(self.shape, maxdims),
            DatatypeMessage.from_numpy(self.dtype),
            FillValueMessage(AllocTime.LATE, FillTime.IFSET, fill),
            VirtualLayoutMessage(heap_address, heap_index),
        ]
        return tuple(raw_message(m) for m in messages)


@dataclass(frozen=True, slots=True)
class ExternalLink:
    """A link at ``path`` in the master to object ``target`` of file ``file_name``."""

    path: str
    file_name: str
    target: str = "/"


@dataclass(eq=False)
class _Group:
    links: dict[str, _Group | VirtualDataset | ExternalLink] = field(default_factory=dict)
    address: int = 0


def _split(path: str) -> list[str]:
    parts = split_path(path, what="master file: path")
    if not parts:
        raise InvalidArgumentError(f"master file: {path!r} is not a path below the root group")
    return parts


def _tree(datasets: Sequence[VirtualDataset], links: Sequence[ExternalLink]) -> _Group:
    root = _Group()
    items: list[VirtualDataset | ExternalLink] = [*datasets, *links]
    for item in items:
        group = root
        *parents, name = _split(item.path)
        for part in parents:
            child = group.links.setdefault(part, _Group())
            if not isinstance(child, _Group):
                raise InvalidArgumentError(f"master file: {part!r} in {item.path!r} is no group")
            group = child
        if name in group.links:
            raise InvalidArgumentError(f"master file: {item.path!r} given twice")
        group.links[name] = item
    return root


def _groups(root: _Group) -> list[_Group]:
    found, queue = [], [root]
    while queue:
        group = queue.pop(0)
        found.append(group)
        queue += [g for g in group.links.values() if isinstance(g, _Group)]
    return found


def _group_header(group: _Group, addresses: dict[int, int]) -> ObjectHeader:
    links = [
        LinkMessage(name, link_type=LinkType.EXTERNAL, file_name=item.file_name, target=item.target)
        if isinstance(item, ExternalLink)
        else LinkMessage(name, addresses.get(id(item), 0))
        for name, item in group.links.items()
    ]
    return compact_group_header(links)


def _dataset_header(dataset: VirtualDataset, heap_address: int, index: int) -> ObjectHeader:
    return fitted_header(dataset.header_messages(heap_address, index))


def encode_master(datasets: Sequence[VirtualDataset], links: Sequence[ExternalLink] = ()) -> bytes:
    """The bytes of a closed HDF5 file holding ``datasets`` and ``links`` (libhdf5 1.10+)."""
    root = _tree(datasets, links)
    groups = _groups(root)
    addresses: dict[int, int] = {}
    address = Superblock.SIZE
    for group in groups:  # sizes do not depend on the addresses, so place first
        addresses[id(group)] = address
        address += _group_header(group, addresses).size
    for index, dataset in enumerate(datasets, start=1):
        addresses[id(dataset)] = address
        address += _dataset_header(dataset, 0, index).size
    heap_address = address
    heap = GlobalHeapCollection(
        tuple(
            GlobalHeapObject(i, VirtualMappingList(d.mappings).encode())
            for i, d in enumerate(datasets, start=1)
        )
    )
    eof = heap_address + heap.size
    parts = [Superblock(ConsistencyFlags.NONE, eof, addresses[id(root)]).encode()]
    parts += [_group_header(g, addresses).encode() for g in groups]
    parts += [_dataset_header(d, heap_address, i).encode() for i, d in enumerate(datasets, start=1)]
    parts.append(heap.encode())
    encoded = b"".join(parts)
    if len(encoded) != eof:  # sizes were computed apart from the bytes: they must agree
        raise AssertionError(f"master file: {len(encoded)} bytes encoded, {eof} planned")
    return encoded


def write_master(
    path: str | os.PathLike[str],
    datasets: Sequence[VirtualDataset],
    links: Sequence[ExternalLink] = (),
    *,
    fsync: bool = False,
) -> None:
    """Write the master file at ``path`` atomically (temporary file, then ``os.replace``)."""
    data = encode_master(datasets, links)
    target = os.fspath(path)
    temporary = f"{target}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        Path(temporary).unlink()
        raise
    os.close(fd)
    Path(temporary).replace(target)
