"""Chunk index elements: the filtered chunk-size width and the element codec."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec, chunk_size_width
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import ExtensibleArrayHeader
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.object_header import ObjectHeader

EXAMPLES = [(255, 2), (256, 3), (8192, 3), (65536, 4), (1, 2), (2**32 - 1, 5)]


@pytest.mark.parametrize(("chunk_bytes", "width"), EXAMPLES)
def test_chunk_size_width_examples(chunk_bytes: int, width: int) -> None:
    assert chunk_size_width(chunk_bytes) == width


@given(st.integers(1, 2**32 - 1))
def test_chunk_size_width_formula(chunk_bytes: int) -> None:
    width = chunk_size_width(chunk_bytes)
    assert width == min(8, 1 + (math.floor(math.log2(chunk_bytes)) + 8) // 8)
    assert chunk_bytes < 1 << (8 * (width - 1))  # one spare byte so a filter may grow the chunk


@pytest.mark.parametrize("chunk_bytes", [0, -1, 2**32])
def test_chunk_size_width_rejects(chunk_bytes: int) -> None:
    with pytest.raises(FormatError):
        chunk_size_width(chunk_bytes)


def test_oracle_layout_v4_element_sizes(tmp_path: Path) -> None:
    """libhdf5 with layout v4 (libver v110..v114) picks the same width: element = 8 + N + 4."""
    path = tmp_path / "v4.h5"
    sizes = [b for b, _ in EXAMPLES[:4]]
    with h5py.File(path, "w", libver=("v110", "v114")) as f:
        for n in sizes:
            kw = {"maxshape": (None, n), "chunks": (1, n), "dtype": "u1", "compression": "gzip"}
            f.create_dataset(f"d{n}", shape=(1, n), **kw)[:] = 1
        addresses = {n: h5py.h5o.get_info(f[f"d{n}"].id).addr for n in sizes}
    buf = path.read_bytes()
    for n in sizes:
        header = ObjectHeader.decode(buf[addresses[n] :])
        (layout_body,) = [m.body for m in header.messages if m.type == 8]
        layout = ChunkedLayoutMessage.decode(layout_body)
        assert layout.version == 4
        ea = ExtensibleArrayHeader.decode(buf[layout.index_address :])
        codec = ElementCodec.for_chunks(layout.chunk_nbytes, filtered=True)
        assert ea.client_id == codec.client_id == 1
        assert ea.element_size == codec.element_size == 8 + chunk_size_width(n) + 4


records = st.builds(
    ChunkRecord, st.integers(0, 2**64 - 1), st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1)
)


@given(records, st.sampled_from([2, 3, 4, 5, 8]))
def test_filtered_round_trip(record: ChunkRecord, width: int) -> None:
    codec = ElementCodec(filtered=True, size_width=width)
    encoded = codec.encode(record)
    assert len(encoded) == codec.element_size == 12 + width
    assert encoded[:8] == record.address.to_bytes(8, "little")
    assert encoded[8 : 8 + width] == record.size.to_bytes(width, "little")
    assert encoded[8 + width :] == record.filter_mask.to_bytes(4, "little")
    assert codec.decode(encoded) == record
    assert codec.decode(encoded + b"next element") == record


@given(records)
def test_unfiltered_round_trip(record: ChunkRecord) -> None:
    codec = ElementCodec.for_chunks(4096, filtered=False)
    assert (codec.client_id, codec.element_size, codec.size_width) == (0, 8, 0)
    encoded = codec.encode(record)
    assert encoded == record.address.to_bytes(8, "little")
    assert codec.decode(encoded) == ChunkRecord(record.address)  # size and mask are not stored


def test_fill_element() -> None:
    assert ElementCodec(False).fill == b"\xff" * 8
    filtered = ElementCodec.for_chunks(8192, filtered=True)
    assert filtered.fill == b"\xff" * 8 + bytes(3 + 4)
    assert filtered.decode(filtered.fill) == ChunkRecord()
    assert not ChunkRecord().is_allocated
    assert ChunkRecord().address == UNDEFINED_ADDRESS
    assert ChunkRecord(4096).is_allocated


def test_size_that_does_not_fit_is_rejected() -> None:
    codec = ElementCodec.for_chunks(255, filtered=True)  # 2-byte sizes
    codec.encode(ChunkRecord(0, 2**16 - 1))
    with pytest.raises(FormatError):
        codec.encode(ChunkRecord(0, 2**16))


@pytest.mark.parametrize("filtered", [False, True])
def test_short_element_is_a_format_error(filtered: bool) -> None:
    codec = ElementCodec.for_chunks(1000, filtered=filtered)
    encoded = codec.encode(ChunkRecord(1, 2, 3))
    for cut in range(len(encoded)):
        with pytest.raises(FormatError):
            codec.decode(encoded[:cut])
