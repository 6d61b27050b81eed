"""Stream V2 messages (DECTRIS documentation, stream_v2/README.md): the field tables as data, a
checker that holds a decoded message against them, and typed ``start``/``image``/``end`` records.

The tables below are the README's "Start Message", "Image Message" and "End Message" tables, type
for type. Unknown fields are allowed (the protocol grows); a known field of the wrong type, a
missing field the receiver needs, or an unknown ``type`` is a ``MessageError``. Float fields take
integers too (CBOR encoders write 1.0 as 1 when asked to be compact).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, cast

import numpy as np

from h5swmr.errors import MessageError
from h5swmr.receive.cbor import MultiDimArray, TypedArray

MAX_UINT64: Final = 2**64 - 1
IMAGE_DTYPES: Final = ("uint8", "uint16", "uint32")


class Kind(StrEnum):
    """The README's data model types."""

    ANY = "Any"
    ARRAY_FLOAT = "Array(Float)"
    ARRAY_TEXT = "Array(TextString)"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    FLOAT = "Float"
    INTEGER = "Integer"
    MAP = "Map"
    MAP_FLOAT = "Map(TextString -> Float)"
    MAP_ARRAY = "Map(TextString -> MultiDimArray)"
    RATIONAL = "Rational"
    TEXT = "TextString"
    TYPED_ARRAY = "TypedArray"


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_UINT64


def _is_float(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def _is_rational(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_uint(v) for v in value)
        and value[1] != 0
    )


def _is_map_of(check: Callable[[object], bool]) -> Callable[[object], bool]:
    def is_map(value: object) -> bool:
        return isinstance(value, dict) and all(
            isinstance(k, str) and check(v) for k, v in value.items()
        )

    return is_map


_CHECKS: Final[dict[Kind, Callable[[object], bool]]] = {
    Kind.ANY: lambda v: True,
    Kind.ARRAY_FLOAT: lambda v: isinstance(v, list) and all(_is_float(x) for x in v),
    Kind.ARRAY_TEXT: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    Kind.BOOLEAN: lambda v: isinstance(v, bool),
    Kind.DATETIME: lambda v: isinstance(v, datetime.datetime),
    Kind.FLOAT: _is_float,
    Kind.INTEGER: _is_uint,
    Kind.MAP: _is_map_of(lambda v: True),
    Kind.MAP_FLOAT: _is_map_of(_is_float),
    Kind.MAP_ARRAY: _is_map_of(lambda v: isinstance(v, MultiDimArray)),
    Kind.RATIONAL: _is_rational,
    Kind.TEXT: lambda v: isinstance(v, str),
    Kind.TYPED_ARRAY: lambda v: isinstance(v, TypedArray),
}

START_FIELDS: Final[dict[str, Kind]] = {
    "type": Kind.TEXT,
    "arm_date": Kind.DATETIME,
    "beam_center_x": Kind.FLOAT,
    "beam_center_y": Kind.FLOAT,
    "channels": Kind.ARRAY_TEXT,
    "count_time": Kind.FLOAT,
    "countrate_correction_enabled": Kind.BOOLEAN,
    "countrate_correction_lookup_table": Kind.TYPED_ARRAY,
    "detector_description": Kind.TEXT,
    "detector_serial_number": Kind.TEXT,
    "detector_translation": Kind.ARRAY_FLOAT,
    "flatfield": Kind.MAP_ARRAY,
    "flatfield_enabled": Kind.BOOLEAN,
    "frame_time": Kind.FLOAT,
    "goniometer": Kind.MAP,
    "image_dtype": Kind.TEXT,
    "image_size_x": Kind.INTEGER,
    "image_size_y": Kind.INTEGER,
    "incident_energy": Kind.FLOAT,
    "incident_wavelength": Kind.FLOAT,
    "number_of_images": Kind.INTEGER,
    "pixel_mask": Kind.MAP_ARRAY,
    "pixel_mask_enabled": Kind.BOOLEAN,
    "pixel_size_x": Kind.FLOAT,
    "pixel_size_y": Kind.FLOAT,
    "saturation_value": Kind.INTEGER,
    "sensor_material": Kind.TEXT,
    "sensor_thickness": Kind.FLOAT,
    "series_id": Kind.INTEGER,
    "series_unique_id": Kind.TEXT,
    "threshold_energy": Kind.MAP_FLOAT,
    "user_data": Kind.ANY,
    "virtual_pixel_interpolation_enabled": Kind.BOOLEAN,
}
IMAGE_FIELDS: Final[dict[str, Kind]] = {
    "type": Kind.TEXT,
    "data": Kind.MAP_ARRAY,
    "image_id": Kind.INTEGER,
    "real_time": Kind.RATIONAL,
    "series_date": Kind.DATETIME,
    "series_id": Kind.INTEGER,
    "series_unique_id": Kind.TEXT,
    "start_time": Kind.RATIONAL,
    "stop_time": Kind.RATIONAL,
    "user_data": Kind.ANY,
}
END_FIELDS: Final[dict[str, Kind]] = {
    "type": Kind.TEXT,
    "series_id": Kind.INTEGER,
    "series_unique_id": Kind.TEXT,
}
FIELDS: Final = {"start": START_FIELDS, "image": IMAGE_FIELDS, "end": END_FIELDS}
REQUIRED: Final = {
    "start": ("series_id", "channels", "image_dtype", "image_size_x", "image_size_y"),
    "image": ("series_id", "image_id", "data"),
    "end": ("series_id",),
}
"""What the receiver cannot work without; the README marks no field optional, but detectors
configured with ``header_detail`` "basic" leave the tables out, and older firmware omits some."""


def check_fields(message: object) -> str:
    """The message's ``type`` once every known field has its README type; else ``MessageError``
    naming the first field at fault."""
    if not isinstance(message, dict):
        raise MessageError(f"a message is a CBOR map, not {type(message).__name__}")
    kind = message.get("type")
    if kind not in FIELDS:
        raise MessageError(
            f"unknown message type {kind!r} (known: start, image, end)", field="type"
        )
    table = FIELDS[kind]
    for name in REQUIRED[kind]:
        if name not in message:
            raise MessageError(f"{kind} message without {name!r}", field=name)
    for name, value in message.items():
        if not isinstance(name, str):
            raise MessageError(f"{kind} message: key {name!r} is not a text string")
        expected = table.get(name)
        if expected is not None and not _CHECKS[expected](value):
            raise MessageError(
                f"{kind} message: {name!r} must be {expected.value}, not {_describe(value)}",
                field=name,
            )
    return str(kind)


def _describe(value: object) -> str:
    if isinstance(value, list | dict):
        return f"{type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"[:80]


def seconds(rational: list[int] | None) -> float:
    """A Stream V2 rational ``[numerator, denominator]`` in seconds (NaN when absent)."""
    if rational is None:
        return float("nan")
    return rational[0] / rational[1]


@dataclass(frozen=True, slots=True)
class StartMessage:
    """A ``start`` message: the series' frame layout, and every field as sent (``fields``)."""

    series_id: int
    series_unique_id: str
    channels: tuple[str, ...]
    dtype: np.dtype[Any]
    frame_dims: tuple[int, int]
    number_of_images: int | None
    fields: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class ImageMessage:
    """An ``image`` message: ``image_id`` and one array per channel."""

    series_id: int
    series_unique_id: str
    image_id: int
    data: Mapping[str, MultiDimArray] = field(repr=False)
    start_time: float
    stop_time: float
    real_time: float


@dataclass(frozen=True, slots=True)
class EndMessage:
    series_id: int
    series_unique_id: str


Message = StartMessage | ImageMessage | EndMessage


def parse(message: object) -> Message:
    """A decoded CBOR map as a checked message record."""
    kind = check_fields(message)
    message = cast("dict[str, Any]", message)  # check_fields said so
    series_id = int(message["series_id"])
    unique = str(message.get("series_unique_id", ""))
    if kind == "end":
        return EndMessage(series_id, unique)
    if kind == "image":
        return ImageMessage(
            series_id,
            unique,
            int(message["image_id"]),
            dict(message["data"]),
            seconds(message.get("start_time")),
            seconds(message.get("stop_time")),
            seconds(message.get("real_time")),
        )
    channels = tuple(message["channels"])
    if not channels or len(set(channels)) != len(channels):
        raise MessageError(f"start message: channels {list(channels)} empty or repeated")
    if message["image_dtype"] not in IMAGE_DTYPES:
        raise MessageError(
            f"start message: image_dtype {message['image_dtype']!r} (known: {IMAGE_DTYPES})",
            field="image_dtype",
        )
    dims = (int(message["image_size_y"]), int(message["image_size_x"]))
    if not all(0 < d <= 2**20 for d in dims):
        raise MessageError(f"start message: image size {dims} out of range", field="image_size_x")
    number = message.get("number_of_images")
    return StartMessage(
        series_id,
        unique,
        channels,
        np.dtype(message["image_dtype"]).newbyteorder("<"),
        dims,
        None if number is None else int(number),
        message,
    )
