"""ChunkEncoder (writer/encoder.py): chunks filtered on a pool, delivered in submission order with
the slot they came with, at most ``max_in_flight`` pending; a failure surfaces at ``drain``.
zlib (the standard library) is the independent judge of what deflate produced."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from h5swmr.errors import FilterError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.writer.encoder import ChunkEncoder
from tests.filters.refusing import RefusingFilter

Delivered = list[tuple[int, bytes, int]]


def _chunks(n: int) -> list[np.ndarray]:
    """Chunks of different sizes and contents, so a worker finishing early is likely."""
    rng = np.random.default_rng(5)
    return [rng.integers(0, 50 * (i + 1), 4096 * (1 + i % 5), dtype="<u2") for i in range(n)]


def _encoder(workers: int, max_in_flight: int | None = None) -> tuple[ChunkEncoder[int], Delivered]:
    delivered: Delivered = []
    encoder = ChunkEncoder[int](
        workers, lambda slot, data, mask: delivered.append((slot, data, mask)), max_in_flight
    )
    return encoder, delivered


@pytest.mark.parametrize("workers", [0, 1, 4])
def test_every_chunk_delivered_in_order_with_its_slot(workers: int) -> None:
    chunks = _chunks(24)
    encoder, delivered = _encoder(workers)
    try:
        for slot, chunk in enumerate(chunks):
            encoder.submit(FilterPipeline.deflate(), chunk, 2, slot)
        encoder.drain()
    finally:
        encoder.shutdown()
    assert [slot for slot, _, _ in delivered] == list(range(24))
    for (slot, data, mask), chunk in zip(delivered, chunks, strict=True):
        assert mask == 0
        assert zlib.decompress(data) == chunk.tobytes(), slot


def test_without_workers_the_caller_filters_at_once() -> None:
    encoder, delivered = _encoder(0)
    chunk = _chunks(1)[0]
    encoder.submit(FilterPipeline.shuffle_deflate(), chunk, 2, 7)
    assert len(delivered) == 1 and delivered[0][0] == 7
    assert (
        FilterPipeline.shuffle_deflate().decode(delivered[0][1], 2, 0, chunk.nbytes)
        == chunk.tobytes()
    )
    encoder.drain()  # nothing queued
    encoder.shutdown()


def test_no_more_than_max_in_flight_wait() -> None:
    encoder, delivered = _encoder(2, max_in_flight=3)
    try:
        for slot, chunk in enumerate(_chunks(10)):
            encoder.submit(FilterPipeline.deflate(), chunk, 2, slot)
            assert slot + 1 - len(delivered) <= 3  # the oldest went out before submit returned
        encoder.drain()
    finally:
        encoder.shutdown()
    assert len(delivered) == 10


def test_a_failing_chunk_raises_at_drain_and_the_rest_are_dropped() -> None:
    encoder, delivered = _encoder(2, max_in_flight=8)
    chunk = _chunks(1)[0]
    try:
        encoder.submit(FilterPipeline.deflate(), chunk, 2, 0)
        encoder.submit(FilterPipeline([RefusingFilter(mandatory=True)]), chunk, 2, 1)
        encoder.submit(FilterPipeline.deflate(), chunk, 2, 2)
        with pytest.raises(FilterError, match="refusing filter: cannot encode this chunk"):
            encoder.drain()
        assert [slot for slot, _, _ in delivered] == [0]
        encoder.drain()  # the queue was emptied: nothing left to raise or deliver
        assert [slot for slot, _, _ in delivered] == [0]
    finally:
        encoder.shutdown()


def test_an_optional_filter_that_cannot_encode_is_skipped_and_masked() -> None:
    """As in libhdf5: shuffle (optional) given an element size it refuses leaves the chunk as
    it was and sets its bit in the filter mask; deflate (the second filter) still runs."""
    encoder, delivered = _encoder(2)
    chunk = _chunks(1)[0]
    try:
        encoder.submit(FilterPipeline.shuffle_deflate(), chunk, 0, 0)
        encoder.drain()
    finally:
        encoder.shutdown()
    ((_, data, mask),) = delivered
    assert mask == 0b01
    assert zlib.decompress(data) == chunk.tobytes()


def test_shutdown_twice_is_harmless() -> None:
    encoder, _ = _encoder(2)
    encoder.shutdown()
    encoder.shutdown()


def test_a_lent_chunk_alone_is_filtered_by_the_caller_and_never_read_after() -> None:
    """Chunk by chunk (a drain after each), a lent chunk is filtered and delivered before
    ``submit`` returns; several between drains are copied and queued, as before. Zeroing each
    lent chunk right after ``submit`` changes nothing that was delivered."""
    encoder, delivered = _encoder(2, max_in_flight=8)
    originals = _chunks(5)
    lent = [chunk.copy() for chunk in originals]
    try:
        encoder.submit(FilterPipeline.deflate(), lent[0], 2, 0, borrowed=True)
        assert len(delivered) == 1  # filtered at once: nothing was in flight
        lent[0][:] = 0
        encoder.submit(FilterPipeline.deflate(), lent[1], 2, 1, borrowed=True)
        assert len(delivered) == 1  # the second before a drain: copied and queued
        lent[1][:] = 0
        encoder.drain()
        encoder.submit(FilterPipeline.deflate(), lent[2], 2, 2, borrowed=True)
        assert len(delivered) == 2  # the last drain followed two chunks: queued
        lent[2][:] = 0
        encoder.submit(FilterPipeline.deflate(), lent[3], 2, 3, borrowed=True)
        lent[3][:] = 0
        encoder.drain()
        encoder.drain()  # none since: the next lone chunk is filtered at once again
        encoder.submit(FilterPipeline.deflate(), lent[4], 2, 4, borrowed=True)
        assert len(delivered) == 5
        lent[4][:] = 0
    finally:
        encoder.shutdown()
    assert [slot for slot, _, _ in delivered] == list(range(5))
    for (slot, data, _), chunk in zip(delivered, originals, strict=True):
        assert zlib.decompress(data) == chunk.tobytes(), slot
