"""Master files: small, closed HDF5 files holding virtual datasets (and external links) that
present the frames of many h5swmr part files as one dataset, written with h5swmr's own encoders.

A master is encoded whole (superblock v3, the global heap of its string attributes, compact
groups, one object header per virtual dataset, one global heap collection with every mapping
list) and put in place atomically: written to a temporary name beside it, then ``os.replace``d.
Groups and virtual datasets may carry attributes (``GroupAttributes``, ``VirtualDataset.attrs``:
NeXus' ``NX_class``, ``units``), and a dataset may have a second name (``HardLink``: NXdata's
``/entry/data/<signal>``). A reader that has the old master open keeps its
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
from h5swmr.format.messages.reference_count import ReferenceCountMessage
from h5swmr.format.messages.virtual_layout import (
    VirtualLayoutMessage,
    VirtualMapping,
    VirtualMappingList,
)
from h5swmr.format.object_header import ObjectHeader, RawMessage
from h5swmr.format.paths import split_path
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.storage.allocator import EofAllocator
from h5swmr.writer.attributes import attribute_message
from h5swmr.writer.headers import compact_group_header, fitted_header, raw_message
from h5swmr.writer.heap import GlobalHeapWriter

Attributes = tuple[tuple[str, object], ...]
"""Attribute names and values, in order (values as ``SwmrFileWriter.set_attribute`` takes)."""


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
    attrs: Attributes = ()

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
        attrs: Attributes = (),
    ) -> VirtualDataset:
        shape = tuple(int(d) for d in shape)
        maxshape = tuple(maxshape) if maxshape is not None else (None, *shape[1:])
        return cls(path, np.dtype(dtype), shape, maxshape, tuple(mappings), fillvalue, attrs)

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


@dataclass(frozen=True, slots=True)
class GroupAttributes:
    """Attributes of the group at ``path`` (made if no dataset or link makes it)."""

    path: str
    attrs: Attributes


@dataclass(frozen=True, slots=True)
class HardLink:
    """A second name, ``path``, for the virtual dataset at ``target``."""

    path: str
    target: str


@dataclass(eq=False)
class _Group:
    links: dict[str, _Group | VirtualDataset | ExternalLink | HardLink] = field(
        default_factory=dict
    )
    address: int = 0
    attributes: tuple[RawMessage, ...] = ()


def _split(path: str) -> list[str]:
    parts = split_path(path, what="master file: path")
    if not parts:
        raise InvalidArgumentError(f"master file: {path!r} is not a path below the root group")
    return parts


def _tree(
    datasets: Sequence[VirtualDataset],
    links: Sequence[ExternalLink],
    hard_links: Sequence[HardLink],
    groups: Sequence[GroupAttributes],
) -> _Group:
    root = _Group()
    items: list[VirtualDataset | ExternalLink | HardLink] = [*datasets, *links, *hard_links]
    paths = [item.path for item in items] + [g.path for g in groups]
    for path, item in zip(paths, [*items, *([None] * len(groups))], strict=True):
        group = root
        *parents, name = _split(path)
        for part in parents:
            child = group.links.setdefault(part, _Group())
            if not isinstance(child, _Group):
                raise InvalidArgumentError(f"master file: {part!r} in {path!r} is no group")
            group = child
        if item is None:  # a group of its own
            child = group.links.setdefault(name, _Group())
            if not isinstance(child, _Group):
                raise InvalidArgumentError(f"master file: {path!r} is no group")
            continue
        if name in group.links:
            raise InvalidArgumentError(f"master file: {path!r} given twice")
        group.links[name] = item
    return root


def _find(root: _Group, path: str) -> _Group | VirtualDataset | ExternalLink | HardLink:
    node: _Group | VirtualDataset | ExternalLink | HardLink = root
    for part in _split(path):
        if not isinstance(node, _Group) or part not in node.links:
            raise InvalidArgumentError(f"master file: nothing at {path!r}")
        node = node.links[part]
    return node


def _groups(root: _Group) -> list[_Group]:
    found, queue = [], [root]
    while queue:
        group = queue.pop(0)
        found.append(group)
        queue += [g for g in group.links.values() if isinstance(g, _Group)]
    return found


def _link(name: str, item: object, root: _Group, addresses: dict[int, int]) -> LinkMessage:
    if isinstance(item, ExternalLink):
        return LinkMessage(
            name, link_type=LinkType.EXTERNAL, file_name=item.file_name, target=item.target
        )
    if isinstance(item, HardLink):
        item = _find(root, item.target)
    return LinkMessage(name, addresses.get(id(item), 0))


def _group_header(group: _Group, root: _Group, addresses: dict[int, int]) -> ObjectHeader:
    links = [_link(name, item, root, addresses) for name, item in group.links.items()]
    return compact_group_header(links, group.attributes)


def _dataset_header(
    dataset: VirtualDataset,
    heap_address: int,
    index: int,
    attributes: tuple[RawMessage, ...],
    link_count: int,
) -> ObjectHeader:
    messages = [*dataset.header_messages(heap_address, index), *attributes]
    if link_count > 1:
        messages.append(raw_message(ReferenceCountMessage(link_count)))
    return fitted_header(messages)


def _attributes(attrs: Attributes, where: str, heap: GlobalHeapWriter) -> tuple[RawMessage, ...]:
    return tuple(attribute_message(name, value, where, heap) for name, value in attrs)


def encode_master(
    datasets: Sequence[VirtualDataset],
    links: Sequence[ExternalLink] = (),
    *,
    hard_links: Sequence[HardLink] = (),
    groups: Sequence[GroupAttributes] = (),
) -> bytes:
    """The bytes of a closed HDF5 file holding ``datasets``, ``links`` and ``hard_links``, with
    the attributes of ``groups`` and of the datasets (libhdf5 1.10+)."""
    root = _tree(datasets, links, hard_links, groups)
    allocator = EofAllocator(Superblock.SIZE)
    strings = GlobalHeapWriter(allocator)  # string attribute values, placed first
    for item in groups:
        group = _find(root, item.path)
        assert isinstance(group, _Group)  # _tree made every one of them a group
        group.attributes += _attributes(item.attrs, f"master file: group {item.path!r}", strings)
    attributes = [_attributes(d.attrs, f"master file: {d.path!r}", strings) for d in datasets]
    link_counts = {id(d): 1 for d in datasets}
    for link in hard_links:
        target = _find(root, link.target)
        if not isinstance(target, VirtualDataset):
            raise InvalidArgumentError(
                f"master file: hard link {link.path!r} to {link.target!r}, not a virtual dataset"
            )
        link_counts[id(target)] += 1
    string_writes = strings.take_writes()
    groups_found = _groups(root)
    addresses: dict[int, int] = {}
    address = allocator.eoa
    for group in groups_found:  # sizes do not depend on the addresses, so place first
        addresses[id(group)] = address
        address += _group_header(group, root, addresses).size
    for index, dataset in enumerate(datasets, start=1):
        addresses[id(dataset)] = address
        header = _dataset_header(dataset, 0, index, attributes[index - 1], link_counts[id(dataset)])
        address += header.size
    heap_address = address
    heap = GlobalHeapCollection(
        tuple(
            GlobalHeapObject(i, VirtualMappingList(d.mappings).encode())
            for i, d in enumerate(datasets, start=1)
        )
    )
    eof = heap_address + heap.size
    image = bytearray(eof)
    image[: Superblock.SIZE] = Superblock(ConsistencyFlags.NONE, eof, addresses[id(root)]).encode()
    for at, data in string_writes:
        image[at : at + len(data)] = data
    parts = [_group_header(g, root, addresses).encode() for g in groups_found]
    parts += [
        _dataset_header(d, heap_address, i, attributes[i - 1], link_counts[id(d)]).encode()
        for i, d in enumerate(datasets, start=1)
    ]
    parts.append(heap.encode())
    tail = b"".join(parts)
    if allocator.eoa + len(tail) != eof:  # sizes were computed apart from the bytes
        raise AssertionError(
            f"master file: {allocator.eoa + len(tail)} bytes encoded, {eof} planned"
        )
    image[allocator.eoa :] = tail
    return bytes(image)


def part_file_name(master_path: str | os.PathLike[str], part_path: str | os.PathLike[str]) -> str:
    """A part's file name as a master stores it (a VDS source or an external link): bare when
    the part lies beside the master (libhdf5 looks in the master's directory first), else
    absolute, so the master works from any working directory. Not yet a VDS source pattern:
    ``vds_source_name`` doubles its ``%``."""
    part = Path(part_path).absolute()
    return part.name if part.parent == Path(master_path).absolute().parent else str(part)


def vds_source_name(master_path: str | os.PathLike[str], part_path: str | os.PathLike[str]) -> str:
    """``part_file_name`` as a VDS source file name (``vds_literal``). An external link takes
    ``part_file_name`` itself: libhdf5 reads its file name literally."""
    return vds_literal(part_file_name(master_path, part_path))


def vds_literal(name: str) -> str:
    """``name`` (a file or dataset name) as a VDS source name: libhdf5 reads every source file
    and dataset name as a pattern (``%b`` a block number, ``%%`` a percent sign) and refuses
    any other ``%``, so ``%`` is doubled."""
    return name.replace("%", "%%")


def write_master(
    path: str | os.PathLike[str],
    datasets: Sequence[VirtualDataset],
    links: Sequence[ExternalLink] = (),
    *,
    hard_links: Sequence[HardLink] = (),
    groups: Sequence[GroupAttributes] = (),
    fsync: bool = False,
) -> None:
    """Write the master file at ``path`` atomically (temporary file, then ``os.replace``)."""
    data = encode_master(datasets, links, hard_links=hard_links, groups=groups)
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
