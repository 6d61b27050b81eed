"""One series through Receiver.handle (the step run() calls per message, here without a socket):
the NeXus tree from a hand-built start, mixed payload kinds, late and duplicate images."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cbor2
import h5py
import hdf5plugin  # noqa: F401 (bitshuffle for h5py)
import numpy as np
import pytest

from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.receive import ReceiveOptions, Receiver
from tests.oracle.h5dump import h5dump_data, h5dump_text
from tests.oracle.old_h5py import describe_with
from tests.receive.hand_built import hand_built_start

DETECTOR = "/entry/instrument/detector"
FRAMES = np.arange(60, dtype="<u4").reshape(10, 2, 3) * 7


def hand_built_image(image_id: int, series_id: int = 7) -> bytes:
    """Channel 1 bitshuffle-LZ4 (stored verbatim), channel 2 raw, big-endian, column-major
    (decoded and appended as a frame)."""
    frame = FRAMES[image_id]
    packed = cbor2.CBORTag(56500, ["bslz4", 4, BitshuffleFilter().encode(frame.tobytes(), 4)])
    first = cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(70, packed)])
    second_bytes = (frame + 1).astype(">u4").tobytes(order="F")
    second = cbor2.CBORTag(1040, [[2, 3], cbor2.CBORTag(66, second_bytes)])
    base = 1_000_000
    return bytes(
        cbor2.dumps(
            {
                "type": "image",
                "series_id": series_id,
                "series_unique_id": f"01HX-{series_id}",
                "image_id": image_id,
                "start_time": [image_id * base // 100, base],
                "stop_time": [image_id * base // 100 + 9000, base],
                "real_time": [9000, base],
                "data": {"threshold_1": first, "threshold_2": second},
            }
        )
    )


def test_a_hand_built_series(tmp_path: Path) -> None:
    receiver = Receiver(
        "tcp://127.0.0.1:1", ReceiveOptions(output=str(tmp_path / "s{series_id}.h5"))
    )
    now = time.monotonic()
    receiver.handle(hand_built_start(), now)
    for image_id in [0, 2, 1, 1, 3, 4]:  # 1 twice
        receiver.handle(hand_built_image(image_id), now)
    receiver.handle(hand_built_image(0, series_id=8), now)  # another series: 7 is closed
    receiver.handle(cbor2.dumps({"type": "end", "series_id": 8}), now)
    reports = receiver.stats.series
    assert [r.series_id for r in reports] == [7, 8]
    counts = reports[0].counts
    assert (counts.received, counts.written, counts.duplicates) == (6, 5, 1)
    assert counts.missing == 95  # number_of_images is 100; ids 5..99 never came
    assert reports[0].ended is False and reports[1].ended is True
    with h5py.File(tmp_path / "s7.h5", "r") as f:
        np.testing.assert_array_equal(f["/entry/data/threshold_1"][:], FRAMES[:5])
        np.testing.assert_array_equal(f["/entry/data/threshold_2"][:], FRAMES[:5] + 1)
        np.testing.assert_allclose(f[f"{DETECTOR}/start_time"][:], np.arange(5) / 100)
        np.testing.assert_allclose(f[f"{DETECTOR}/real_time"][:], 0.009)
        specific = f[f"{DETECTOR}/detectorSpecific"]
        np.testing.assert_array_equal(specific["threshold_1/flatfield"][0], np.ones((2, 3)))
        np.testing.assert_array_equal(specific["threshold_2/pixel_mask"][0], np.zeros((2, 3)))
        np.testing.assert_array_equal(
            specific["countrate_correction_lookup_table"][0], np.arange(4)
        )
        start = json.loads(specific["stream_start"].asstr()[()])
        assert start["arm_date"].startswith("2026-01-01")
        assert json.loads(specific["user_data"].asstr()[()]) == {"proposal": 42}
        assert specific["channels"].asstr()[()].tolist() == ["threshold_1", "threshold_2"]
        assert specific["nimages"][()] == 100
        assert f["/entry/start_time"].asstr()[()].startswith("2026-01-01")
        detector = f[DETECTOR]
        assert isinstance(detector["distance"], h5py.Dataset)
        assert detector["serial_number"].asstr()[()] == "E-08-0123"
        fields = {name: detector[name] for name in ("beam_center_x", "distance", "count_time")}
        assert all(d.shape == () and d.dtype == np.dtype("<f8") for d in fields.values())
        assert fields["beam_center_x"][()] == pytest.approx(1041.5)
        assert fields["distance"][()] == pytest.approx(0.1)
        assert (
            fields["distance"].attrs["units"] == "m" and "units" not in fields["count_time"].attrs
        )
        assert detector["flatfield_applied"][()] is np.True_
        assert detector["saturation_value"].dtype == np.dtype("<i8")
        np.testing.assert_allclose(detector["threshold_energy"][:], [6200.0, 9000.0])
        assert detector["threshold_energy"].attrs["units"] == "eV"
        wavelength = f["/entry/instrument/beam/incident_wavelength"]
        assert wavelength[()] == pytest.approx(1.0) and wavelength.attrs["units"] == "angstrom"
        assert f["/entry/sample/goniometer"].attrs["omega_increment"] == pytest.approx(0.1)
        assert f["/entry"].attrs["frames_duplicates"] == 1
        assert f["/entry"].attrs["end_received"] == 0
    with h5py.File(tmp_path / "s8.h5", "r") as f:  # no start: layout from its first image
        np.testing.assert_array_equal(f["/entry/data/threshold_1"][:], FRAMES[:1])
        assert "detectorSpecific" not in f[DETECTOR]


def test_start_fields_as_old_h5py_and_h5dump_read_them(tmp_path: Path) -> None:
    """The NeXus fields are plain datasets to libhdf5 1.10 (h5dump) and h5py 3.8 as well."""
    receiver = Receiver(
        "tcp://127.0.0.1:1", ReceiveOptions(output=str(tmp_path / "s{series_id}.h5"))
    )
    now = time.monotonic()
    receiver.handle(hand_built_start(), now)
    receiver.handle(hand_built_image(0), now)
    receiver.handle(cbor2.dumps({"type": "end", "series_id": 7}), now)
    path = tmp_path / "s7.h5"
    distance, energy = f"{DETECTOR}/distance", f"{DETECTOR}/threshold_energy"
    old = describe_with("3.8.0", path, export=[distance, energy])
    assert old["arrays"][distance].shape == () and float(old["arrays"][distance]) == 0.1
    np.testing.assert_allclose(old["arrays"][energy], [6200.0, 9000.0])
    assert old["datasets"][distance]["attrs"] == ["units"]
    assert old["datasets"][f"{DETECTOR}/serial_number"]["read_error"] is None
    assert old["datasets"]["/entry/start_time"]["shape"] == ()
    assert old["groups"]["/entry/instrument/beam"]["members"] == [
        "incident_energy", "incident_wavelength",
    ]  # fmt: skip
    assert h5dump_data(path, distance, "<f8", ()) == 0.1
    assert "(0): TRUE" in h5dump_text(path, f"{DETECTOR}/flatfield_applied")
    start_time = h5dump_text(path, "/entry/start_time")
    assert "H5T_VARIABLE" in start_time and '(0): "2026-01-01T12:00:00+00:00"' in start_time


def test_a_string_field_with_a_nul_stays_in_the_json_only(tmp_path: Path) -> None:
    start = cbor2.loads(hand_built_start())
    start["detector_serial_number"] = "E-08\x000123"  # HDF5 strings cannot hold a NUL
    receiver = Receiver(
        "tcp://127.0.0.1:1", ReceiveOptions(output=str(tmp_path / "s{series_id}.h5"))
    )
    receiver.handle(cbor2.dumps(start), time.monotonic())
    receiver.handle(hand_built_image(0), time.monotonic())
    receiver.handle(cbor2.dumps({"type": "end", "series_id": 7}), time.monotonic())
    assert receiver.stats.malformed == 0 and receiver.stats.series[0].counts.written == 1
    with h5py.File(tmp_path / "s7.h5", "r") as f:
        assert "serial_number" not in f[DETECTOR] and f[f"{DETECTOR}/distance"][()] == 0.1
        stream_start = json.loads(f[f"{DETECTOR}/detectorSpecific/stream_start"].asstr()[()])
        assert stream_start["detector_serial_number"] == "E-08\x000123"


def test_a_start_with_a_broken_table_is_malformed_and_images_still_land(tmp_path: Path) -> None:
    start = cbor2.loads(hand_built_start())
    broken = cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(70, b"\x00" * 5)])  # 5 bytes for 6 u4
    start["pixel_mask"] = {"threshold_1": broken, "threshold_2": broken}
    receiver = Receiver(
        "tcp://127.0.0.1:1", ReceiveOptions(output=str(tmp_path / "s{series_id}.h5"))
    )
    now = time.monotonic()
    receiver.handle(cbor2.dumps(start), now)
    assert receiver.stats.malformed == 1
    for image_id in range(3):
        receiver.handle(hand_built_image(image_id), now)
    receiver.handle(cbor2.dumps({"type": "end", "series_id": 7}), now)
    assert receiver.stats.series[0].counts.written == 3
    with h5py.File(tmp_path / "s7.h5", "r") as f:
        np.testing.assert_array_equal(f["/entry/data/threshold_1"][:], FRAMES[:3])
        assert "detectorSpecific" not in f[DETECTOR]
