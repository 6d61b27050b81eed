"""The ``start`` message as a NeXus tree: NXdetector and NXbeam fields as datasets, with NeXus'
names where NeXus has one (``x_pixel_size``, ``serial_number``, ``flatfield_applied``...).

NeXus readers look for fields (datasets), not attributes: ``distance``, ``beam_center_x``,
``incident_wavelength``... are scalar datasets, each with a ``units`` attribute where the Stream
V2 README gives a unit (it gives none for times, pixel sizes, beam centre or sensor thickness, so
those carry none rather than a guess). ``/entry/start_time`` is the arm date as an ISO 8601
string dataset. Flatfield, pixel mask and count-rate tables are datasets (one frame each,
bitshuffle-LZ4 when the codecs are there). The whole message, less its tables, is kept as JSON in
``detectorSpecific/stream_start``, so no field is lost; ``user_data`` (any CBOR) is JSON too.
Goniometer axes stay attributes of their NXtransformations group: a transformation field needs
``transformation_type``, ``vector`` and ``depends_on``, which the stream does not send.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Final

import numpy as np

from h5swmr.errors import FilterUnavailableError, MessageError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.receive.cbor import MultiDimArray, TypedArray
from h5swmr.receive.messages import StartMessage
from h5swmr.writer.swmr_file_writer import SwmrFileWriter

DETECTOR: Final = "/entry/instrument/detector"
BEAM: Final = "/entry/instrument/beam"
GONIOMETER: Final = "/entry/sample/goniometer"
SPECIFIC: Final = f"{DETECTOR}/detectorSpecific"

DETECTOR_FIELDS: Final = {
    "beam_center_x": "beam_center_x",
    "beam_center_y": "beam_center_y",
    "count_time": "count_time",
    "frame_time": "frame_time",
    "pixel_size_x": "x_pixel_size",
    "pixel_size_y": "y_pixel_size",
    "sensor_material": "sensor_material",
    "sensor_thickness": "sensor_thickness",
    "detector_serial_number": "serial_number",
    "detector_description": "description",
    "saturation_value": "saturation_value",
    "countrate_correction_enabled": "countrate_correction_applied",
    "flatfield_enabled": "flatfield_applied",
    "pixel_mask_enabled": "pixel_mask_applied",
    "virtual_pixel_interpolation_enabled": "virtual_pixel_correction_applied",
    "detector_translation": "detector_translation",
}
SPECIFIC_FIELDS: Final = {"number_of_images": "nimages"}
BEAM_FIELDS: Final = {
    "incident_energy": "incident_energy",
    "incident_wavelength": "incident_wavelength",
}
# Units the Stream V2 README states (field table of the start message); NeXus unit names.
UNITS: Final = {
    "detector_translation": "m",
    "distance": "m",
    "threshold_energy": "eV",
    "incident_energy": "eV",
    "incident_wavelength": "angstrom",
}
# Datasets the series itself makes in the NXdetector: a start field never takes their names.
PER_FRAME: Final = frozenset({"image_id", "received", "start_time", "stop_time", "real_time"})
TABLES: Final = ("flatfield", "pixel_mask", "countrate_correction_lookup_table")


def _field_value(value: object) -> object | None:
    """A start field as ``write_dataset`` data (NeXus types: NX_BOOLEAN as bool, NX_INT as
    int64, NX_FLOAT as float64, NX_CHAR as a string); None for what a field cannot hold."""
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value) if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, str):
        return value if "\x00" not in value else None  # HDF5 strings end at NUL: JSON only
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        if any(isinstance(v, bool) for v in value):
            return None
        return np.asarray(value, dtype="<f8")
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value if not any("\x00" in v for v in value) else None
    return None


def _json_default(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, MultiDimArray | TypedArray):
        return f"<array, {type(value).__name__}>"
    if isinstance(value, bytes | memoryview):
        return f"<{len(value)} bytes>"
    return repr(value)


def _table_pipeline() -> FilterPipeline | None:
    try:
        return FilterPipeline.bitshuffle_lz4()
    except FilterUnavailableError:
        return None


def _write_field(writer: SwmrFileWriter, group: str, name: str, value: object) -> None:
    """Field ``name`` of ``group`` as a dataset, with its ``units`` when the README has one."""
    writer.write_dataset(f"{group}/{name}", value)
    if name in UNITS:
        writer.set_attribute(f"{group}/{name}", "units", UNITS[name])


def write_start_metadata(
    writer: SwmrFileWriter, start: StartMessage, tables: list[tuple[str, np.ndarray[Any, Any]]]
) -> None:
    """Fields, groups and the ``tables`` (``start_tables``) of ``start``; before
    ``start_swmr``, after the series' own datasets (whose names a field never takes)."""
    fields = start.fields
    taken = PER_FRAME | set(start.channels)
    if start.number_of_images is not None:  # the VDS master reads it (master.py)
        writer.set_attribute("/entry", "number_of_images", start.number_of_images)
    if isinstance(fields.get("arm_date"), datetime.datetime):
        writer.write_string_dataset("/entry/start_time", fields["arm_date"].isoformat())
    for key, name in DETECTOR_FIELDS.items():
        value = _field_value(fields.get(key))
        if value is not None and name not in taken:
            _write_field(writer, DETECTOR, name, value)
    translation = _field_value(fields.get("detector_translation"))
    if (
        isinstance(translation, np.ndarray)
        and translation.shape == (3,)
        and "distance" not in taken
    ):
        _write_field(writer, DETECTOR, "distance", np.float64(translation[2]))
    energies = fields.get("threshold_energy")
    if isinstance(energies, dict) and "threshold_energy" not in taken:
        values = [float(energies.get(c, float("nan"))) for c in start.channels]
        _write_field(writer, DETECTOR, "threshold_energy", np.asarray(values, "<f8"))
    if any(key in fields for key in BEAM_FIELDS):
        writer.create_group(BEAM)
        writer.set_attribute(BEAM, "NX_class", "NXbeam")
        for key, name in BEAM_FIELDS.items():
            value = _field_value(fields.get(key))
            if value is not None:
                _write_field(writer, BEAM, name, value)
    goniometer = fields.get("goniometer")
    if isinstance(goniometer, dict) and goniometer:
        writer.create_group(GONIOMETER)
        writer.set_attribute("/entry/sample", "NX_class", "NXsample")
        writer.set_attribute(GONIOMETER, "NX_class", "NXtransformations")
        for axis, values in goniometer.items():
            for part in ("start", "increment"):
                value = values.get(part) if isinstance(values, dict) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    writer.set_attribute(GONIOMETER, f"{axis}_{part}", float(value))
    writer.create_group(SPECIFIC)
    writer.set_attribute(SPECIFIC, "NX_class", "NXcollection")
    channels = _field_value(list(start.channels))
    if channels is not None:
        writer.write_string_dataset(f"{SPECIFIC}/channels", channels)
    for key, name in SPECIFIC_FIELDS.items():
        value = _field_value(fields.get(key))
        if value is not None:
            _write_field(writer, SPECIFIC, name, value)
    if "user_data" in fields:
        user_data = json.dumps(fields["user_data"], default=_json_default)
        writer.write_string_dataset(f"{SPECIFIC}/user_data", user_data)
    summary = {k: v for k, v in fields.items() if k not in TABLES}
    writer.write_string_dataset(
        f"{SPECIFIC}/stream_start", json.dumps(summary, default=_json_default)
    )
    pipeline = _table_pipeline()
    for path, data in tables:
        if pipeline is None:
            ds = writer.create_streaming_dataset(path, data.dtype, data.shape)
        else:
            ds = writer.create_streaming_dataset_compressed(path, data.dtype, data.shape, pipeline)
        writer.append_frame(ds, data)


def start_tables(start: StartMessage) -> list[tuple[str, np.ndarray[Any, Any]]]:
    """Per-channel flatfield and pixel mask, and the count-rate table, decoded and checked
    (``MessageError``) before any file is made: each becomes a one-frame dataset."""
    arrays: list[tuple[str, np.ndarray[Any, Any]]] = []
    for key in ("flatfield", "pixel_mask"):
        per_channel = start.fields.get(key)
        if isinstance(per_channel, dict):
            for channel, array in per_channel.items():
                if isinstance(array, MultiDimArray):
                    arrays.append((f"{SPECIFIC}/{channel}/{key}", array.to_numpy()))
    table = start.fields.get("countrate_correction_lookup_table")
    if isinstance(table, TypedArray):
        arrays.append((f"{SPECIFIC}/countrate_correction_lookup_table", table.to_numpy()))
    checked = []
    for path, array in arrays:
        if array.size == 0 or array.dtype.kind not in "uif" or array.ndim > 3:
            raise MessageError(f"start message: {path} is empty, not numbers or of rank > 3")
        checked.append((path, np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))))
    return checked
