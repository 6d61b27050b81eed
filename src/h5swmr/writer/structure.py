"""The file's structure as the writer builds it: groups, datasets, hard links and attributes.

Everything here is checked before anything changes, so a rejected call leaves the structure as it
was. ``publish`` places what is new and returns the writes that put the structure on disk:
groups go to fresh addresses each time (readers that hold the old ones keep a valid view), a
dataset's header keeps its address for life, and its attributes live in a block of their own that
a rewritten chunk 0 points at.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from h5swmr.errors import (
    DatasetNotFoundError,
    H5SwmrError,
    InvalidArgumentError,
    InvalidDtypeError,
    UnsupportedError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageType
from h5swmr.format.extensible_array.blocks import ExtensibleArrayHeader
from h5swmr.format.fixed_array import FixedArrayHeader
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.format.paths import check_link_name, split_path
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write
from h5swmr.writer import nexus
from h5swmr.writer.attributes import attribute_message
from h5swmr.writer.chunking import ChunkGrid, check_dims
from h5swmr.writer.fixed_array_index import FixedArrayIndex
from h5swmr.writer.grid_dataset import GridDataset, grid_codec
from h5swmr.writer.headers import attribute_block, group_header
from h5swmr.writer.heap import GlobalHeapWriter
from h5swmr.writer.static_dataset import (
    StaticData,
    StaticDatasetNode,
    build_numeric,
    build_strings,
    numeric_array,
)
from h5swmr.writer.streaming_dataset import (
    NUMBER_KINDS,
    STREAMING_DTYPE_KINDS,
    StreamingDataset,
)
from h5swmr.writer.tree import DatasetNode, GroupNode, KeptNode, Node, Tree

DatasetRef = int | str
"""A dataset as ``create_streaming_dataset`` returned it, or its path."""


@dataclass(frozen=True, slots=True)
class DatasetRequest:
    """What a create_streaming_dataset* call asked for, as given (checked on creation)."""

    call: str
    name: str
    dtype: DTypeLike
    frame_dims: tuple[int, ...]
    tile: tuple[int, ...] | None = None
    chunk: tuple[int, ...] | None = None
    pipeline: FilterPipeline | None = None


class FileStructure:
    """Groups, datasets, links and attributes, and what of them is not on disk yet."""

    def __init__(
        self,
        allocator: EofAllocator,
        tree: Tree | None = None,
        datasets: list[StreamingDataset] | None = None,
        static_datasets: list[StaticDatasetNode] | None = None,
    ) -> None:
        self.allocator = allocator
        self.tree = tree or Tree()
        self.datasets: list[StreamingDataset] = datasets or []
        self.dirty = tree is None
        self.nexus = False
        self.finished_flags: list[StreamingDataset] = []
        self.heap = GlobalHeapWriter(allocator)
        self.static_datasets: list[StaticDatasetNode] = static_datasets or []
        self.pending_writes: list[Write] = []
        """Data of datasets written whole, waiting for the next publish."""

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.datasets]

    # -- looking up ---------------------------------------------------------------------------

    def dataset(self, ds: object, call: str) -> StreamingDataset:
        if type(ds) is int and 0 <= ds < len(self.datasets):  # the per-frame case, first
            return self.datasets[ds]
        if isinstance(ds, int | np.integer) and not isinstance(ds, bool):
            if 0 <= ds < len(self.datasets):
                return self.datasets[int(ds)]
            known = f"0..{len(self.datasets) - 1}" if self.datasets else "none yet"
            raise DatasetNotFoundError(
                f"{call}: no dataset number {ds} (datasets: {known})", dataset=ds
            )
        if isinstance(ds, str):
            node = self.tree.resolve(ds) if split_path(ds) else None
            if isinstance(node, DatasetNode):
                return self.datasets[node.index]
            if isinstance(node, StaticDatasetNode) and not node.reopened:
                raise InvalidArgumentError(
                    f"{call}: {ds!r} was written whole by write_dataset or "
                    "write_string_dataset; it does not grow"
                )
            raise DatasetNotFoundError(
                f"{call}: no dataset {ds!r} (datasets: {self.names})", dataset=ds
            )
        raise DatasetNotFoundError(
            f"{call}: a dataset is its number or path, not {type(ds).__name__}", dataset=ds
        )

    def node(self, path: str, where: str) -> Node:
        split_path(path, what=f"{where}: path")
        node = self.tree.resolve(path)
        if node is None:
            raise DatasetNotFoundError(f"{where}: no group or dataset at {path!r}", dataset=path)
        return node

    # -- creating -----------------------------------------------------------------------------

    def create_dataset(self, request: DatasetRequest) -> StreamingDataset:
        """A new streaming dataset; in NeXus mode a bare name also gets its NXdata link and
        its key dataset."""
        name = request.name
        bare = self.nexus and isinstance(name, str) and nexus.is_bare_name(name) and name.strip()
        path = nexus.detector_path(name) if bare else name
        dataset = self._create_dataset(dataclasses.replace(request, name=path))
        if bare:
            leaf = name.strip()
            self.create_hard_link(nexus.DATA, leaf, dataset.name)
            data_group = self.tree.resolve(nexus.DATA)
            if data_group is not None and "signal" not in data_group.attributes:
                self.set_attribute(nexus.DATA, "signal", leaf)
            self.create_key_dataset(dataset, f"{nexus.KEYS}/{leaf}")
        return dataset

    def _create_dataset(self, request: DatasetRequest) -> StreamingDataset:
        call, name, dtype, frame_dims = (
            request.call,
            request.name,
            request.dtype,
            request.frame_dims,
        )
        tile, chunk, pipeline = request.tile, request.chunk, request.pipeline
        where = f"{call}({name!r})"
        parts = split_path(name, what=f"{where}: name")
        if not parts:
            raise InvalidArgumentError(f"{where}: the root group cannot be a dataset")
        numpy_dtype = dataset_dtype(dtype, where)
        dims = check_dims(frame_dims, what=f"{where}: frame_dims", allow_empty=True)
        if tile is not None:
            chunk_dims = (1, *check_dims(tile, what=f"{where}: frame_chunk", allow_empty=True))
        elif chunk is not None:
            chunk_dims = check_dims(chunk, what=f"{where}: chunk")
        else:
            chunk_dims = (1, *dims)
        try:
            grid = ChunkGrid(dims, chunk_dims, numpy_dtype.itemsize)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}: {exc}") from exc
        if pipeline is not None and not isinstance(pipeline, FilterPipeline):
            raise InvalidArgumentError(
                f"{where}: pipeline must be a FilterPipeline, not {type(pipeline).__name__}"
            )
        if pipeline is not None:  # fills in what depends on the chunk (blosc stores its size)
            pipeline = pipeline.for_chunk(numpy_dtype.itemsize, grid.chunk_nbytes)
            pipeline.describe(numpy_dtype.itemsize)  # rejects filters that cannot take the dtype
        self.check_new_link(parts, where)

        index_address = self.allocator.allocate(ExtensibleArrayHeader.SIZE, within_page=True)
        node = DatasetNode("/" + "/".join(parts), index=len(self.datasets))
        dataset = StreamingDataset.create(
            node,
            numpy_dtype,
            grid,
            pipeline=pipeline,
            index_address=index_address,
            allocator=self.allocator,
        )
        self.tree.link(self.tree.require_group(parts[:-1]), parts[-1], node)
        self.datasets.append(dataset)
        self.dirty = True
        return dataset

    def create_grid_dataset(
        self,
        name: str,
        dtype: DTypeLike,
        dims: tuple[int, ...],
        chunk: tuple[int, ...],
        pipeline: FilterPipeline | None,
    ) -> GridDataset:
        """A fixed-shape dataset with a fixed-array chunk index, every check made first."""
        where = f"create_grid_dataset({name!r})"
        parts = split_path(name, what=f"{where}: name")
        if not parts:
            raise InvalidArgumentError(f"{where}: the root group cannot be a dataset")
        numpy_dtype = dataset_dtype(dtype, where)
        shape = check_dims(dims, what=f"{where}: dims")
        chunk_dims = check_dims(chunk, what=f"{where}: chunk")
        if len(chunk_dims) != len(shape):
            raise InvalidArgumentError(
                f"{where}: chunk {chunk_dims} must have the rank of dims {shape}"
            )
        if any(c > d for c, d in zip(chunk_dims, shape, strict=True)):
            raise InvalidArgumentError(
                f"{where}: chunk {chunk_dims} is larger than dims {shape} (HDF5 requires "
                "chunk <= dims for fixed dimensions)"
            )
        try:
            ChunkGrid(shape[1:], chunk_dims, numpy_dtype.itemsize)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}: {exc}") from exc
        if pipeline is not None and not isinstance(pipeline, FilterPipeline):
            raise InvalidArgumentError(
                f"{where}: pipeline must be a FilterPipeline, not {type(pipeline).__name__}"
            )
        chunk_nbytes = math.prod(chunk_dims) * numpy_dtype.itemsize
        if pipeline is not None:
            pipeline = pipeline.for_chunk(numpy_dtype.itemsize, chunk_nbytes)
            pipeline.describe(numpy_dtype.itemsize)
        self.check_new_link(parts, where)

        codec = grid_codec(numpy_dtype, chunk_dims, filtered=pipeline is not None)
        n_chunks = math.prod(-(-d // c) for d, c in zip(shape, chunk_dims, strict=True))
        header_address = self.allocator.allocate(FixedArrayHeader.SIZE, within_page=True)
        index = FixedArrayIndex(codec, n_chunks, header_address, self.allocator)
        node = DatasetNode("/" + "/".join(parts), index=len(self.datasets))
        dataset = GridDataset(node, numpy_dtype, shape, chunk_dims, pipeline=pipeline, index=index)
        self.tree.link(self.tree.require_group(parts[:-1]), parts[-1], node)
        self.datasets.append(dataset)
        self.dirty = True
        return dataset

    def check_new_link(self, parts: list[str], where: str) -> None:
        """Fail, changing nothing, unless ``parts`` can become a new link (groups on the way may
        be missing, but none may be a dataset)."""
        node: GroupNode = self.tree.root
        for depth, part in enumerate(parts):
            child = node.links.get(part)
            path = "/" + "/".join(parts[: depth + 1])
            if depth == len(parts) - 1:
                if child is not None:
                    raise InvalidArgumentError(f"{where}: {path!r} already exists")
                return
            if child is None:
                return
            if not isinstance(child, GroupNode):
                raise InvalidArgumentError(f"{where}: {path!r} is a dataset, not a group")
            node = child

    def write_dataset(
        self, path: str, data: object, pipeline: FilterPipeline | None, call: str
    ) -> StaticDatasetNode:
        """A dataset holding ``data`` whole (numbers or fixed-length bytes; ``str`` data goes to
        ``write_string_dataset``); every check is made before anything is allocated."""
        where = f"{call}({path!r})"
        if _is_text(data):
            if pipeline is not None:
                raise InvalidArgumentError(
                    f"{where}: text is stored as variable-length strings, which cannot be "
                    "compressed: their bytes live in global heap collections, which HDF5 never "
                    "filters (a filter would see only the 16-byte heap references); to compress "
                    "text, pass it as fixed-length bytes (np.char.encode(texts, 'utf-8'))"
                )
            return self.write_string_dataset(path, data, call)
        parts = self._new_dataset_parts(path, where)
        if pipeline is not None and not isinstance(pipeline, FilterPipeline):
            raise InvalidArgumentError(
                f"{where}: pipeline must be a FilterPipeline, not {type(pipeline).__name__}"
            )
        array = numeric_array(data, where)
        built = build_numeric(array, where, self.allocator, pipeline)
        return self._add_static(parts, built)

    def write_string_dataset(self, path: str, strings: object, call: str) -> StaticDatasetNode:
        """A dataset of variable-length UTF-8 strings (a ``str`` makes a scalar one)."""
        where = f"{call}({path!r})"
        parts = self._new_dataset_parts(path, where)
        return self._add_static(parts, build_strings(strings, where, self.allocator, self.heap))

    def _new_dataset_parts(self, path: str, where: str) -> list[str]:
        """The link names of a new dataset at ``path`` (a bare name goes to the NXdetector in
        NeXus mode, as for streaming datasets), or an error that changes nothing."""
        if self.nexus and isinstance(path, str) and nexus.is_bare_name(path) and path.strip():
            path = nexus.detector_path(path)
        parts = split_path(path, what=f"{where}: path")
        if not parts:
            raise InvalidArgumentError(f"{where}: the root group cannot be a dataset")
        self.check_new_link(parts, where)
        return parts

    def _add_static(self, parts: list[str], built: StaticData) -> StaticDatasetNode:
        node = StaticDatasetNode("/" + "/".join(parts), messages=built.messages)
        self.tree.link(self.tree.require_group(parts[:-1]), parts[-1], node)
        self.static_datasets.append(node)
        self.pending_writes += built.writes
        self.dirty = True
        return node

    def use_nexus(self) -> None:
        """Lay the file out as NeXus: the groups, their NX_class and the finished flag."""
        self.nexus = True
        for path, nx_class in nexus.GROUP_CLASSES.items():
            self.create_group(path, "nexus")
            self.set_attribute(path, "NX_class", nx_class)
        self.create_finished_flag(nexus.FINISHED)

    def adopt_nexus(self) -> None:
        """A reopened NeXus file h5swmr wrote: its keys go on growing with their frames and its
        finished flag is set again at close."""
        flag = self.tree.resolve(nexus.FINISHED)
        if not isinstance(flag, DatasetNode):
            return
        self.nexus = True
        finished = self.datasets[flag.index]
        finished.publish_rank = 2
        self.finished_flags.append(finished)
        keys = self.tree.resolve(nexus.KEYS)
        for leaf, key in keys.links.items() if isinstance(keys, GroupNode) else ():
            data = self.tree.resolve(nexus.detector_path(leaf))
            if isinstance(key, DatasetNode) and isinstance(data, DatasetNode):
                key_dataset = self.datasets[key.index]
                key_dataset.publish_rank = 1
                self.datasets[data.index].keys.append(key_dataset)

    def create_key_dataset(self, for_dataset: StreamingDataset, path: str) -> StreamingDataset:
        """Element i is i + 1 once frame i of ``for_dataset`` is readable: published after it."""
        key = self._create_dataset(
            DatasetRequest("create_key_dataset", path, "<i8", (), chunk=(nexus.KEY_CHUNK,))
        )
        key.publish_rank = 1
        for_dataset.keys.append(key)
        return key

    def create_finished_flag(self, path: str) -> StreamingDataset:
        """``[0]`` until ``close`` has published every frame, then ``[1]`` (swmr-tools' flag)."""
        flag = self._create_dataset(DatasetRequest("create_finished_flag", path, "u1", ()))
        flag.publish_rank = 2
        self.finished_flags.append(flag)
        return flag

    def create_group(self, path: str, where: str) -> GroupNode:
        """The group at ``path``, made with any missing parents; an existing group is fine."""
        parts = split_path(path, what=f"{where}: path")
        try:  # refuses a dataset on the way before it creates anything
            group = self.tree.require_group(parts)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}: {exc}") from exc
        self.dirty = True
        return group

    def create_hard_link(self, parent_group_path: str, link_name: str, target_path: str) -> None:
        where = f"create_hard_link({parent_group_path!r}, {link_name!r}, {target_path!r})"
        parent = split_path(parent_group_path, what=f"{where}: parent_group_path")
        check_link_name(link_name, what=f"{where}: link_name")
        split_path(target_path, what=f"{where}: target_path")
        target = self.tree.resolve(target_path)
        if target is None:
            raise DatasetNotFoundError(
                f"{where}: no dataset or group at {target_path!r}", dataset=target_path
            )
        self.check_new_link([*parent, link_name], where)
        if isinstance(target, KeptNode):  # its link count cannot be rewritten
            raise UnsupportedError(
                f"{where}: {target_path!r} is kept as it is by open_append, so it takes no new "
                f"link: {target.reason}"
            )
        self.tree.link(self.tree.require_group(parent), link_name, target)
        self.dirty = True

    def set_attribute(
        self, path: str, name: str, value: object, *, fixed_length: bool = False
    ) -> None:
        where = f"set_attribute({path!r}, {name!r})"
        node = self.node(path, where)
        if isinstance(node, DatasetNode) and name in _existing_attribute_names(
            self.datasets[node.index]
        ):
            raise UnsupportedError(
                f"{where}: the dataset already has an attribute {name!r} that h5swmr did not "
                "write; h5swmr adds attributes but does not replace others'"
            )
        if isinstance(node, KeptNode):
            raise UnsupportedError(
                f"{where}: {path!r} is kept as it is by open_append, so it takes no new "
                f"attribute {name!r}: {node.reason}"
            )
        if not isinstance(node, GroupNode | DatasetNode | StaticDatasetNode):
            raise UnsupportedError(f"{where}: {path!r} is an object h5swmr did not write")
        message = attribute_message(name, value, where, self.heap, fixed_length=fixed_length)
        node.attributes[name] = message
        node.attributes_changed = True
        self.dirty = True

    # -- publishing ---------------------------------------------------------------------------

    def publish(self) -> tuple[list[Write], list[Write]]:
        """Place what is new; returns (attribute blocks, groups) to write.

        Attribute blocks are fresh space written before the dataset headers that point at them;
        groups are written after the dataset headers. New datasets get their header address (the
        caller writes the headers). Group sizes do not depend on addresses, so all groups are
        placed before any is encoded.
        """
        if not self.dirty:
            return [], []
        blocks: list[Write] = [*self.pending_writes, *self.heap.take_writes()]
        self.pending_writes = []
        for static in self.static_datasets:  # groups point at them: placed first
            if not static.is_changed:
                continue
            static.published_link_count = static.link_count
            static.attributes_changed = False
            header = static.header()
            static.address = self.allocator.allocate(header.size)
            blocks.append((static.address, header.encode()))
        for dataset in self.datasets:
            node = dataset.node
            node.published_link_count = node.link_count
            if node.address == UNDEFINED_ADDRESS:
                node.address = self.allocator.allocate(dataset.header_size, within_page=True)
                dataset.frames_published = -1  # forces the first write of the header
            if node.attributes_changed:
                block = attribute_block(tuple(node.attributes.values()))
                address = self.allocator.allocate(block.length)
                blocks.append((address, block.encode()))
                dataset.attribute_block = (address, block.length)
                node.attributes_changed = False
        groups = self.tree.groups()
        for group in groups:
            group.published_link_count = group.link_count
            group.attributes_changed = False
            group.address = self.allocator.allocate(group_header(group, placed=False).size)
        self.dirty = False
        return blocks, [(group.address, group_header(group).encode()) for group in groups]


def _is_text(data: object) -> bool:
    """str data, or a list or array of str: text for write_string_dataset."""
    if isinstance(data, str):
        return True
    if isinstance(data, np.ndarray):
        return data.dtype.kind in "UO"
    if isinstance(data, list | tuple) and data:
        return isinstance(np.asarray(data, dtype=object).reshape(-1)[0], str)
    return False


def _existing_attribute_names(dataset: StreamingDataset) -> set[str]:
    """Attributes in a reopened dataset's chunk 0 that h5swmr did not write."""
    names = set()
    for message in dataset.fixed_messages:
        if message.type == MessageType.ATTRIBUTE:
            try:
                names.add(AttributeMessage.decode(message.body).name)
            except H5SwmrError:
                continue
    return names


def record_dtype(dtype: np.dtype, where: str) -> np.dtype:
    """A structured dtype whose every field is a number (or a subarray or structure of numbers),
    kept as given (names, order, offsets, padding, byte orders), as h5py keeps it."""
    pending = [dtype]
    while pending:
        dt = pending.pop()
        if dt.fields is not None:
            pending += (dt.fields[name][0] for name in dt.names or ())
        elif dt.subdtype is not None:
            pending.append(dt.subdtype[0])
        elif dt.kind not in NUMBER_KINDS:  # numbers, not bytes
            raise InvalidDtypeError(
                f"{where}: structured dtype {dtype} has a field of dtype {dt}; its fields must "
                "be booleans, integers of 1 to 8 bytes, float16/32/64 or complex64/128 (or "
                "arrays or structures of these)"
            )
    return _encodable(dtype, where)


def _encodable(dtype: np.dtype, where: str) -> np.dtype:
    """``dtype`` if a datatype message can hold it, else InvalidDtypeError."""
    try:
        DatatypeMessage.from_numpy(dtype)
    except H5SwmrError as exc:
        raise InvalidDtypeError(f"{where}: {exc}") from exc
    return dtype


def dataset_dtype(dtype: DTypeLike, where: str) -> np.dtype:
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidDtypeError(f"{where}: {dtype!r} is not a numpy dtype") from exc
    if numpy_dtype.fields is not None:
        return record_dtype(numpy_dtype, where)
    if numpy_dtype.kind in "UO":
        raise InvalidDtypeError(
            f"{where}: dtype {numpy_dtype} is not a fixed-size number or byte string; store "
            "text as fixed-length bytes, dtype 'S32' say, from np.char.encode(text, 'utf-8')"
        )
    if numpy_dtype.kind == "S" and numpy_dtype.itemsize == 0:
        raise InvalidDtypeError(f"{where}: dtype S0 has no length; give one, as S32")
    if numpy_dtype.kind not in STREAMING_DTYPE_KINDS:
        raise InvalidDtypeError(
            f"{where}: dtype {numpy_dtype} is not a fixed-size number; streaming datasets hold "
            "booleans, integers of 1 to 8 bytes, float16/32/64, complex64/128 and bytes (S32...)"
        )
    # the byte order asked for is kept, as h5py keeps it: a ">i4" frame makes a ">i4" dataset
    return _encodable(numpy_dtype, where)
