"""The commit's fast paths write exactly the bytes the plain encoders make.

Each cache (the dataset header image, the EA header image, the data-block prefix, the grid's
derived values, the reusable tile buffer) is checked against the slow path it replaces.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import H5SwmrError, SwmrFileWriter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.extensible_array.blocks import DataBlock, ExtensibleArrayHeader
from h5swmr.format.extensible_array.params import ExtensibleArrayParams
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write
from h5swmr.writer.chunking import ChunkGrid
from h5swmr.writer.commit import CommitPlan
from h5swmr.writer.extensible_array_index import ExtensibleArrayIndex, params_for
from h5swmr.writer.headers import (
    DatasetHeaderImage,
    dataset_fixed_messages,
    dataset_header,
    dataset_header_size,
)


def _commit(index: ExtensibleArrayIndex) -> list[list[Write]]:
    plan = CommitPlan()
    index.commit(plan)
    return plan.phases(b"")


def _index(filtered: bool, page_bits: int | None = None) -> ExtensibleArrayIndex:
    codec = ElementCodec.for_chunks(8192, filtered=filtered)
    params = params_for(codec.element_size)
    if page_bits is not None:
        params = ExtensibleArrayParams(max_dblk_page_nelmts_bits=page_bits)
    return ExtensibleArrayIndex(params, codec, 48, EofAllocator(4096))


@pytest.mark.parametrize("pipeline", [None, FilterPipeline.shuffle_deflate(4)])
def test_dataset_header_image_matches_a_full_encode(pipeline: FilterPipeline | None) -> None:
    grid = ChunkGrid((6, 7), (1, 6, 7), 2)
    index = _index(pipeline is not None)
    fixed = dataset_fixed_messages(
        DatatypeMessage.from_numpy(np.dtype("u2")), grid, pipeline, index
    )
    size = dataset_header_size(fixed, grid.frame_dims)
    image = DatasetHeaderImage(fixed, grid.frame_dims, size)
    for frames, links in [(0, 1), (1, 1), (2, 1), (255, 1), (256, 2), (2**40 + 3, 2), (7, 1)]:
        expected = dataset_header(fixed, grid.frame_dims, frames, links, size).encode()
        assert image.encode(frames, links) == expected


@pytest.mark.parametrize(("filtered", "page_bits"), [(False, None), (True, None), (False, 6)])
def test_index_commit_writes_what_the_block_encoders_make(
    filtered: bool, page_bits: int | None
) -> None:
    index = _index(filtered, page_bits)
    rng = np.random.default_rng(3)
    n = 0
    for batch in (1, 3, 1, 20, 7, 100, 1, 300):
        for i in range(n, n + batch):
            size = int(rng.integers(1, 8000)) if filtered else 0
            index.set(i, ChunkRecord(10_000 + 8192 * i, size, 0))
        n += batch
        plan = CommitPlan()
        index.commit(plan, final=True)
        data, header = plan.leaves, plan.index_headers
        # the EA header: the patched image is the dataclass's encoding of the same state
        assert header == [(48, index.header.encode())]
        decoded = ExtensibleArrayHeader.decode(header[0][1])
        assert decoded.max_index_set == n
        for address, block in data:
            state = next((s for s in index._data_blocks.values() if s.address == address), None)
            if state is None or state.elements is None:
                continue  # a page or the prefix of a paged block: encoded as before
            offset = index.params.data_block_offset(state.info, state.number)
            expected = DataBlock(index.codec.client_id, 48, offset, bytes(state.elements))
            assert block == expected.encode(index.params)
    for i in range(n):
        assert index.get(i).address == 10_000 + 8192 * i


@pytest.mark.parametrize(("filtered", "page_bits"), [(False, None), (True, None), (False, 6)])
def test_set_run_commits_what_setting_one_by_one_commits(
    filtered: bool, page_bits: int | None
) -> None:
    """Runs that start and end anywhere: inside the index block, across it into the data
    blocks, across data blocks, super blocks and pages."""
    one_by_one, in_runs = _index(filtered, page_bits), _index(filtered, page_bits)
    rng = np.random.default_rng(5)
    n = 0
    for run in (3, 1, 17, 64, 5, 130, 2, 400, 33):
        sizes = [(int(rng.integers(1, 8000)), i % 2) if filtered else () for i in range(run)]
        records = [ChunkRecord(10_000 + 8192 * (n + i), *sizes[i]) for i in range(run)]
        for i, record in enumerate(records, n):
            one_by_one.set(i, record)
        if filtered:
            in_runs.set_run(n, records)
        else:
            in_runs.set_addresses(n, [r.address for r in records])
        n += run
        assert in_runs.max_index_set == one_by_one.max_index_set == n
        assert _commit(in_runs) == _commit(one_by_one)
    assert [in_runs.get(i) for i in range(n)] == [one_by_one.get(i) for i in range(n)]
    in_runs.set_run(n, [])
    assert in_runs.max_index_set == n
    if filtered:
        with pytest.raises(H5SwmrError, match="filtered chunks"):
            in_runs.set_addresses(n, [1])


def test_set_run_beyond_the_array_changes_nothing() -> None:
    index = _index(False)
    last = index.params.max_elements
    with pytest.raises(H5SwmrError):
        index.set_run(last - 1, [ChunkRecord(100), ChunkRecord(200)])
    assert index.max_index_set == 0


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize(
    ("dims", "chunk"),
    [
        ((600, 700), (1, 128, 128)),  # several strips, padded edge tiles
        ((600, 700), (3, 128, 128)),  # tiles of a band of frames, written slab by slab
        ((600, 700), (1, 100, 700)),  # contiguous tiles: written straight from the frame
        ((600, 700), (2, 100, 700)),
        ((601, 700), (1, 100, 700)),  # full-width tiles, a padded last one
        ((80, 50, 80), (1, 8, 50, 16)),  # rank 3, two strips
    ],
)
def test_large_tiled_frames_read_back_in_h5py(
    tmp_path: Path, workers: int, dims: tuple[int, ...], chunk: tuple[int, ...]
) -> None:
    """Frames big enough to be cut in strips on the helper thread (workers > 0)."""
    path = tmp_path / "t.h5"
    frames = np.random.default_rng(6).integers(0, 60000, (5, *dims), dtype=np.uint16)
    with SwmrFileWriter.create(path, workers=workers) as w:
        ds = w.create_streaming_dataset_chunked("data", "u2", dims, chunk)
        w.start_swmr()
        for frame in frames:
            w.append_frame(ds, frame)
            w.flush()
    with h5py.File(path, "r") as f:
        assert f["data"].chunks == chunk
        np.testing.assert_array_equal(f["data"][...], frames)


def test_tiled_frames_written_from_one_buffer_read_back(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 60000, (5, 9, 13), dtype=np.uint16)
    with SwmrFileWriter.create(path) as w:
        a = w.create_streaming_dataset_tiled("a", "u2", (9, 13), (4, 4))
        b = w.create_streaming_dataset_chunked("b", "u2", (9, 13), (3, 4, 4))
        w.start_swmr()
        for frame in frames:
            w.append_frame(a, frame)
            w.append_frame(b, frame)
            w.flush()
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["a"][...], frames)
        np.testing.assert_array_equal(f["b"][...], frames)


def test_superblock_image_matches_a_full_encode() -> None:
    from h5swmr.format.superblock import ConsistencyFlags, Superblock
    from h5swmr.writer.headers import SuperblockImage

    image = SuperblockImage()
    cases = [
        (ConsistencyFlags.WRITE_ACCESS, 48, 200),
        (ConsistencyFlags.WRITE_ACCESS, 4096, 200),
        (ConsistencyFlags.SWMR_WRITING, 5000, 200),
        (ConsistencyFlags.SWMR_WRITING, 2**40, 200),
        (ConsistencyFlags.SWMR_WRITING, 2**40 + 8, 300),
        (ConsistencyFlags.NONE, 7, 300),
    ]
    for flags, eof, root in cases:
        written = image.update(flags, eof, root)
        assert written is not None and written == Superblock(flags, eof, root).encode()
        assert image.update(flags, eof, root) is None  # unchanged: nothing to write
