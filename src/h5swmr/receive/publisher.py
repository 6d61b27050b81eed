"""Publisher: a Stream V2 source for demos, tests and benchmarks: binds a ZeroMQ PUSH socket
(as a DECTRIS DCU does) and sends ``start``, one ``image`` per frame, ``end``, each one CBOR map.

Frames come from the caller (any iterable of numpy arrays); payloads are bitshuffle-LZ4 or LZ4
in HDF5's framing (tag 56500, encoded with h5swmr's own filters) or raw typed arrays. ``order``
sends images in another order, or leaves some out, to exercise a receiver's reordering.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from h5swmr.errors import InvalidArgumentError
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.lz4 import WHOLE_CHUNK, LZ4Filter
from h5swmr.receive.cbor import Compressed, MultiDimArray, TypedArray, dumps

COMPRESSIONS: Final = ("bslz4", "lz4", "none")
ZERO_COPY_BYTES: Final = 65536
"""Messages this large are handed to ZeroMQ without a copy (pyzmq's advice: 64 KiB or more)."""
TIME_BASE: Final = 10**9
"""Denominator of the start/stop/real time rationals (a 1 GHz time base)."""


def encode_payload(frame: np.ndarray[Any, Any], compression: str) -> MultiDimArray:
    """``frame`` as the tag-40 typed array an image message carries, compressed as asked."""
    frame = np.ascontiguousarray(frame, dtype=frame.dtype.newbyteorder("<"))
    raw = frame.tobytes()
    payload: bytes | Compressed
    if compression == "bslz4":
        payload = Compressed(
            "bslz4", frame.dtype.itemsize, BitshuffleFilter().encode(raw, frame.dtype.itemsize)
        )
    elif compression == "lz4":
        # one block per frame, as a detector sends it (and hdf5plugin's default)
        payload = Compressed("lz4", 0, LZ4Filter(WHOLE_CHUNK).encode(raw, frame.dtype.itemsize))
    elif compression == "none":
        payload = raw
    else:
        raise InvalidArgumentError(f"compression {compression!r}: one of {COMPRESSIONS}")
    return MultiDimArray(tuple(frame.shape), TypedArray(frame.dtype, payload))


def start_message(
    series_id: int,
    channels: Sequence[str],
    frame: np.ndarray[Any, Any],
    number_of_images: int,
    **fields: object,
) -> dict[str, object]:
    """A ``start`` message with the README's fields, plausible values for an EIGER2."""
    message: dict[str, object] = {
        "type": "start",
        "arm_date": datetime.datetime.now(datetime.UTC),
        "beam_center_x": frame.shape[-1] / 2,
        "beam_center_y": frame.shape[-2] / 2 if frame.ndim > 1 else 0.0,
        "channels": list(channels),
        "count_time": 0.001,
        "countrate_correction_enabled": False,
        "detector_description": "h5swmr simulated detector",
        "detector_serial_number": "SIM-0001",
        "detector_translation": [0.0, 0.0, 0.12],
        "flatfield_enabled": False,
        "frame_time": 0.001,
        "goniometer": {"omega": {"increment": 0.1, "start": 0.0}},
        "image_dtype": frame.dtype.name,
        "image_size_x": int(frame.shape[-1]),
        "image_size_y": int(frame.shape[-2]) if frame.ndim > 1 else 1,
        "incident_energy": 12400.0,
        "incident_wavelength": 1.0,
        "number_of_images": number_of_images,
        "pixel_mask_enabled": False,
        "pixel_size_x": 7.5e-05,
        "pixel_size_y": 7.5e-05,
        "saturation_value": int(np.iinfo(frame.dtype).max) - 1,
        "sensor_material": "Si",
        "sensor_thickness": 0.00045,
        "series_id": series_id,
        "series_unique_id": f"sim-{series_id}",
        "threshold_energy": {c: 6200.0 + 100.0 * i for i, c in enumerate(channels)},
        "user_data": {"sample": "simulated"},
        "virtual_pixel_interpolation_enabled": False,
    }
    message.update(fields)
    return message


def image_message(
    series_id: int, image_id: int, data: dict[str, MultiDimArray], frame_time: float = 0.001
) -> dict[str, object]:
    start = round(image_id * frame_time * TIME_BASE)
    exposure = round(frame_time * TIME_BASE * 0.9)
    return {
        "type": "image",
        "series_id": series_id,
        "series_unique_id": f"sim-{series_id}",
        "image_id": image_id,
        "series_date": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "start_time": [start, TIME_BASE],
        "stop_time": [start + exposure, TIME_BASE],
        "real_time": [exposure, TIME_BASE],
        "data": data,
    }


def end_message(series_id: int) -> dict[str, object]:
    return {"type": "end", "series_id": series_id, "series_unique_id": f"sim-{series_id}"}


class Publisher:
    """A bound PUSH socket; ``endpoint`` is where it listens (``tcp://127.0.0.1:*`` picks a
    free port, then ``endpoint`` says which)."""

    def __init__(self, endpoint: str, *, sndhwm: int = 1000, linger: float = 30.0) -> None:
        import zmq

        self._zmq = zmq
        # a context of its own: close() terminates it, which waits (up to ``linger``) until
        # ZeroMQ's I/O thread has sent every queued message, whose buffers are ours (zero copy)
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._socket: zmq.Socket[bytes] = self._context.socket(zmq.PUSH)
        self._socket.setsockopt(zmq.SNDHWM, sndhwm)
        self._socket.setsockopt(zmq.LINGER, int(linger * 1000))
        self._monitor: zmq.Socket[bytes] = self._socket.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED
        )
        self._socket.bind(endpoint)
        self.endpoint: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.connected = 0

    def wait_for_receivers(self, count: int, timeout: float) -> bool:
        """Block until ``count`` receivers have connected (round robin then serves them all
        from the first frame on), at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.connected < count:
            left = deadline - time.monotonic()
            if left <= 0 or not self._monitor.poll(int(left * 1000)):
                return False
            self._monitor.recv_multipart()
            self.connected += 1
        return True

    def send(self, message: dict[str, object] | bytes) -> None:
        raw = message if isinstance(message, bytes) else dumps(message)
        if len(raw) < ZERO_COPY_BYTES:
            self._socket.send(raw)
        else:
            self._socket.send(raw, copy=False)

    def publish_series(
        self,
        series_id: int,
        frames: Sequence[np.ndarray[Any, Any]] | Callable[[int], np.ndarray[Any, Any]],
        n_frames: int,
        *,
        channels: Sequence[str] = ("threshold_1",),
        compression: str = "bslz4",
        order: Sequence[int] | None = None,
        rate: float = 0.0,
        end: bool = True,
    ) -> int:
        """Send a series: start, images ``order`` (default 0..n_frames-1), end. Image i is
        ``frames(i)``, or ``frames[i % len(frames)]`` for a sequence; channel k adds k to it.
        ``rate`` frames a second (0: as fast as the socket takes them)."""
        if callable(frames):
            frame_of = frames
        else:
            pool = list(frames)
            if not pool:
                raise InvalidArgumentError("publish_series: no frames")

            def frame_of(index: int) -> np.ndarray[Any, Any]:
                return pool[index % len(pool)]

        ids = list(range(n_frames)) if order is None else list(order)
        self.send(start_message(series_id, channels, frame_of(0), n_frames))
        began = time.monotonic()
        for sent, image_id in enumerate(ids):
            if rate > 0:
                delay = began + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            frame = frame_of(image_id)
            data = {
                c: encode_payload(frame if k == 0 else frame + k, compression)
                for k, c in enumerate(channels)
            }
            self.send(image_message(series_id, image_id, data))
        if end:
            self.send(end_message(series_id))
        return len(ids)

    def close(self) -> None:
        """Close the socket once what was sent has gone out (or ``linger`` ran out)."""
        self._socket.disable_monitor()
        self._monitor.close(linger=0)
        self._socket.close()
        self._context.term()
