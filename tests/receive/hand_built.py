"""Stream V2 messages built by hand with cbor2 alone, from the README's tables and data model."""

from __future__ import annotations

import datetime

import cbor2
import numpy as np

from h5swmr.receive.messages import START_FIELDS

ARM = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def hand_built_start() -> bytes:
    """A start message with every field of the README's table, built with cbor2 alone (tags
    as the README's data model says: DateTime tag 0, TypedArray tag + bytes, MultiDimArray
    tag 40), values as an EIGER2 4M would send them."""
    mask = cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(70, np.zeros(6, "<u4").tobytes())])
    flat = cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(85, np.ones(6, "<f4").tobytes())])
    message = {
        "type": "start",
        "arm_date": ARM,
        "beam_center_x": 1041.5,
        "beam_center_y": 1095.25,
        "channels": ["threshold_1", "threshold_2"],
        "count_time": 0.0099999,
        "countrate_correction_enabled": True,
        "countrate_correction_lookup_table": cbor2.CBORTag(70, np.arange(4, dtype="<u4").tobytes()),
        "detector_description": "Dectris EIGER2 Si 4M",
        "detector_serial_number": "E-08-0123",
        "detector_translation": [0.0, 0.0, 0.1],
        "flatfield": {"threshold_1": flat, "threshold_2": flat},
        "flatfield_enabled": True,
        "frame_time": 0.01,
        "goniometer": {"omega": {"increment": 0.1, "start": 0.0}},
        "image_dtype": "uint32",
        "image_size_x": 3,
        "image_size_y": 2,
        "incident_energy": 12398.4,
        "incident_wavelength": 1.0,
        "number_of_images": 100,
        "pixel_mask": {"threshold_1": mask, "threshold_2": mask},
        "pixel_mask_enabled": True,
        "pixel_size_x": 7.5e-05,
        "pixel_size_y": 7.5e-05,
        "saturation_value": 109922,
        "sensor_material": "Si",
        "sensor_thickness": 0.00045,
        "series_id": 7,
        "series_unique_id": "01HX-7",
        "threshold_energy": {"threshold_1": 6200.0, "threshold_2": 9000.0},
        "user_data": {"proposal": 42},
        "virtual_pixel_interpolation_enabled": False,
    }
    assert set(message) == set(START_FIELDS)
    return bytes(cbor2.dumps(message))
