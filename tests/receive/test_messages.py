"""Stream V2 messages held against the README's field tables (DECTRIS stream_v2/README.md)."""

from __future__ import annotations

import cbor2
import numpy as np
import pytest

from h5swmr.errors import MessageError
from h5swmr.receive import cbor
from h5swmr.receive.messages import (
    END_FIELDS,
    IMAGE_FIELDS,
    START_FIELDS,
    EndMessage,
    ImageMessage,
    StartMessage,
    parse,
)
from h5swmr.receive.publisher import encode_payload, end_message, image_message, start_message
from tests.receive.hand_built import ARM, hand_built_start


def test_a_hand_built_start_message_passes_the_table() -> None:
    start = parse(cbor.loads(hand_built_start()))
    assert isinstance(start, StartMessage)
    assert start.channels == ("threshold_1", "threshold_2")
    assert start.frame_dims == (2, 3) and start.dtype == np.dtype("<u4")
    assert start.number_of_images == 100 and start.series_unique_id == "01HX-7"
    assert start.fields["arm_date"] == ARM


def test_a_hand_built_image_and_end_pass_the_table() -> None:
    data = cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(70, np.arange(6, dtype="<u4").tobytes())])
    image = {
        "type": "image",
        "data": {"threshold_1": data},
        "image_id": 3,
        "real_time": [9_999_900, 1_000_000_000],
        "series_date": ARM,
        "series_id": 7,
        "series_unique_id": "01HX-7",
        "start_time": [30_000_000, 1_000_000_000],
        "stop_time": [39_999_900, 1_000_000_000],
        "user_data": None,
    }
    assert set(image) == set(IMAGE_FIELDS)
    parsed = parse(cbor.loads(cbor2.dumps(image)))
    assert isinstance(parsed, ImageMessage)
    assert parsed.image_id == 3 and parsed.start_time == pytest.approx(0.03)
    assert parsed.real_time == pytest.approx(0.0099999)
    end = {"type": "end", "series_id": 7, "series_unique_id": "01HX-7"}
    assert set(end) == set(END_FIELDS)
    assert parse(cbor.loads(cbor2.dumps(end))) == EndMessage(7, "01HX-7")


def test_the_publishers_messages_pass_the_table() -> None:
    frame = np.zeros((4, 5), "u2")
    for message in (
        start_message(1, ["threshold_1"], frame, 3),
        image_message(1, 0, {"threshold_1": encode_payload(frame, "bslz4")}),
        end_message(1),
    ):
        table = {"start": START_FIELDS, "image": IMAGE_FIELDS, "end": END_FIELDS}[
            str(message["type"])
        ]
        assert set(message) <= set(table)
        parse(cbor.loads(cbor.dumps(message)))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"type": "status"}, "unknown message type"),
        ({"series_id": -1}, "'series_id' must be Integer"),
        ({"series_id": True}, "'series_id' must be Integer"),
        ({"image_size_x": 1.5}, "'image_size_x' must be Integer"),
        ({"channels": "threshold_1"}, "'channels' must be Array"),
        ({"beam_center_x": "1"}, "'beam_center_x' must be Float"),
        ({"arm_date": "2026-01-01"}, "'arm_date' must be DateTime"),
        ({"flatfield": {"t": [1, 2]}}, "'flatfield' must be Map"),
        ({"image_dtype": "float32"}, "image_dtype"),
        ({"channels": ["a", "a"]}, "empty or repeated"),
    ],
)
def test_a_start_message_that_breaks_the_table(change: dict[str, object], match: str) -> None:
    message = cbor.loads(hand_built_start())
    assert isinstance(message, dict)
    message.update(change)
    with pytest.raises(MessageError, match=match):
        parse(message)


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        {"series_id": 1},
        {"type": "image", "series_id": 1, "image_id": 0},  # no data
        {"type": "image", "series_id": 1, "image_id": 0, "data": {}, "start_time": [1, 0]},
        {"type": "image", "series_id": 1, "image_id": 0, "data": {"a": b"raw"}},
        {"type": "end"},
    ],
)
def test_messages_the_receiver_cannot_use(message: object) -> None:
    with pytest.raises(MessageError):
        parse(message)


def test_unknown_fields_are_allowed() -> None:
    assert parse({"type": "end", "series_id": 1, "firmware_extra": [1]}) == EndMessage(1, "")
