"""CBOR with Stream V2's tags: RFC 8746 typed arrays and multi-dimensional arrays, tag 56500."""

from __future__ import annotations

import cbor2
import numpy as np
import pytest

from h5swmr.errors import MessageError
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.receive import cbor
from h5swmr.receive.cbor import Compressed, MultiDimArray, TypedArray

# RFC 8746 section 2.1, table 3, written out by hand (tag -> numpy dtype)
RFC_8746_TABLE = {
    64: "u1", 65: ">u2", 66: ">u4", 67: ">u8", 68: "u1", 69: "<u2", 70: "<u4", 71: "<u8",
    72: "i1", 73: ">i2", 74: ">i4", 75: ">i8", 77: "<i2", 78: "<i4", 79: "<i8",
    80: ">f2", 81: ">f4", 82: ">f8", 83: ">f16", 84: "<f2", 85: "<f4", 86: "<f8", 87: "<f16",
}  # fmt: skip


@pytest.mark.parametrize(("tag", "dtype"), sorted(RFC_8746_TABLE.items()))
def test_typed_array_tags_follow_rfc_8746(tag: int, dtype: str) -> None:
    assert cbor.typed_array_dtype(tag) == np.dtype(dtype)
    if tag != cbor.TAG_CLAMPED_UINT8:  # 68 and 64 are both uint8; encoding picks 64
        assert cbor.typed_array_tag(np.dtype(dtype)) == tag


@pytest.mark.parametrize("tag", [63, 76, 88, 1040])
def test_tags_outside_the_typed_arrays_are_refused(tag: int) -> None:
    with pytest.raises(MessageError, match="not a typed array"):
        cbor.typed_array_dtype(tag)


def test_a_message_built_by_hand_from_the_spec_decodes() -> None:
    """An image message written with cbor2's own tags, as the README's data model describes
    it (tag 40 around [dims, tag 70 typed array around tag 56500 [bslz4, 4, bytes]]), not by
    our encoder; its payload decodes with dectris-compression to the frame."""
    frame = np.arange(12, dtype="<u4").reshape(3, 4)
    packed = BitshuffleFilter().encode(frame.tobytes(), 4)
    payload = cbor2.CBORTag(56500, ["bslz4", 4, packed])
    data = cbor2.CBORTag(40, [[3, 4], cbor2.CBORTag(70, payload)])
    raw = cbor2.dumps({"type": "image", "series_id": 1, "image_id": 0, "data": {"t1": data}})
    message = cbor.loads(raw)
    assert isinstance(message, dict)
    array = message["data"]["t1"]
    assert isinstance(array, MultiDimArray) and array.dims == (3, 4)
    assert isinstance(array.array.payload, Compressed)
    assert array.array.payload.data == packed
    assert array.array.payload.declared_size() == frame.nbytes
    np.testing.assert_array_equal(array.to_numpy(), frame)


def test_column_major_big_endian_and_lz4() -> None:
    frame = np.arange(6, dtype=">u2").reshape(2, 3)
    column = cbor2.CBORTag(1040, [[2, 3], cbor2.CBORTag(65, frame.tobytes(order="F"))])
    lz4 = LZ4Filter().encode(frame.astype("<u2").tobytes(), 2)
    compressed = cbor2.CBORTag(
        40, [[2, 3], cbor2.CBORTag(69, cbor2.CBORTag(56500, ["lz4", 0, lz4]))]
    )
    decoded = cbor.loads(cbor2.dumps([column, compressed]))
    assert isinstance(decoded, list)
    np.testing.assert_array_equal(decoded[0].to_numpy(), frame)
    np.testing.assert_array_equal(decoded[1].to_numpy(), frame)


def test_our_encoder_round_trips() -> None:
    frame = np.arange(20, dtype="<u4").reshape(4, 5)
    typed = TypedArray(
        np.dtype("<u4"), Compressed("bslz4", 4, BitshuffleFilter().encode(frame.tobytes(), 4))
    )
    message = {"a": MultiDimArray((4, 5), typed), "b": frame, "c": [1, 2]}
    back = cbor.loads(cbor.dumps(message))
    assert isinstance(back, dict)
    assert back["a"] == message["a"]
    np.testing.assert_array_equal(back["b"].to_numpy(), frame)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xff",
        b"\xbf",  # an indefinite map that never ends
        cbor2.dumps(cbor2.CBORTag(56500, ["zstd", 0, b"x" * 20])),
        cbor2.dumps(cbor2.CBORTag(56500, ["bslz4", 4])),
        cbor2.dumps(cbor2.CBORTag(56500, ["bslz4", -1, b"x" * 20])),
        cbor2.dumps(cbor2.CBORTag(70, "not bytes")),
        cbor2.dumps(cbor2.CBORTag(76, b"\x00")),
        cbor2.dumps(cbor2.CBORTag(40, [[2, 2], [1, 2, 3, 4]])),  # elements not a typed array
        cbor2.dumps(cbor2.CBORTag(40, [["2"], cbor2.CBORTag(64, b"ab")])),
        b"\x81" * 100_000,  # nested arrays, deeper than any decoder recursion
    ],
)
def test_malformed_cbor_is_a_message_error(raw: bytes) -> None:
    with pytest.raises(MessageError):
        cbor.loads(raw)


def test_a_payload_that_does_not_decode() -> None:
    with pytest.raises(MessageError, match="does not decode"):
        Compressed(
            "lz4", 0, (100).to_bytes(8, "big") + b"\x00\x00\x00\x40" + b"\xff" * 30
        ).decompress()
    with pytest.raises(MessageError, match="shorter than its header"):
        Compressed("lz4", 0, b"\x00" * 4).declared_size()


def test_the_self_described_cbor_tag_a_detector_sends_first_is_skipped() -> None:
    """DECTRIS detectors begin each message with tag 55799 (RFC 8949 3.4.6: "this is CBOR"),
    as the captured messages in dectris/documentation's stream_v2 test data do; inside it cbor2
    would turn every map into a frozendict, and the message was refused as not a map."""
    payload = Compressed("lz4", 0, LZ4Filter().encode(bytes(range(64)), 1))
    message = {
        "type": "image",
        "user_data": {"k": [1, 2]},
        "data": {"t1": MultiDimArray((8, 8), TypedArray(np.dtype("u1"), payload))},
    }
    bare = cbor.dumps(message)
    for raw in (b"\xd9\xd9\xf7" + bare, cbor2.dumps(cbor2.CBORTag(55799, cbor2.loads(bare)))):
        decoded = cbor.loads(raw)
        assert isinstance(decoded, dict) and isinstance(decoded["user_data"], dict)
        array = decoded["data"]["t1"]
        assert isinstance(array, MultiDimArray) and array.dims == (8, 8)
        assert isinstance(array.array.payload, Compressed)
        assert bytes(array.array.payload.data) == bytes(payload.data)
    nested = cbor2.dumps({"type": "end", "x": cbor2.CBORTag(55799, 5)})
    assert cbor.loads(nested) == {"type": "end", "x": 5}  # anywhere it means nothing
