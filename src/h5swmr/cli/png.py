"""A frame as a PNG image: viridis colours, a colour bar below, written with zlib + struct only.

The image is 8-bit RGB. Values are scaled linearly from the frame's minimum (dark blue) to its
maximum (yellow); NaN pixels are grey. Below the image, after a white gap, a colour bar strip runs
from the minimum (left) to the maximum (right); the scale is stored in the PNG's text chunks
(``Title``, ``Comment``) and printed by ``watch``.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.Struct(">IIBBBBB")  # width, height, bit depth, colour type, compression, filter, ...
_LENGTH = struct.Struct(">I")
_RGB = 2  # PNG colour type: truecolour
ZLIB_LEVEL = 3
"""Fast: watch rewrites the image about once a second."""

MAX_SIDE = 1024
"""Larger frames are shown every n-th pixel, so the image is at most this many pixels across."""
GAP = 2
"""White rows between the image and the colour bar."""
NAN_RGB = (128, 128, 128)

# viridis (matplotlib) at 0, 1/8, ..., 1; the 256-entry table interpolates between them
_VIRIDIS_ANCHORS = np.array(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 73, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (253, 231, 37),
    ],
    dtype=np.float64,
)


def viridis_table(n: int = 256) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """``n`` x 3 uint8 colours from dark blue to yellow."""
    at = np.linspace(0.0, 1.0, len(_VIRIDIS_ANCHORS))
    where = np.linspace(0.0, 1.0, n)
    channels = [np.interp(where, at, _VIRIDIS_ANCHORS[:, c]) for c in range(3)]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


_TABLE = viridis_table()


def as_image(frame: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The 2-D array shown for a frame: 2-D as is, 3-D its first plane, 1-D a single row,
    every n-th pixel of larger frames (at most ``MAX_SIDE`` across)."""
    if frame.ndim == 0:
        image = frame.reshape(1, 1)
    elif frame.ndim == 1:
        image = frame.reshape(1, -1)
    else:
        image = frame.reshape(-1, *frame.shape[-2:])[0] if frame.ndim > 2 else frame
    step = max(1, -(-max(image.shape) // MAX_SIDE))
    return image[::step, ::step]


def colour_bar_height(image_height: int) -> int:
    """Rows of the colour bar under an image ``image_height`` rows high."""
    return max(4, min(32, image_height // 10))


def image_size(frame_shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of the PNG that ``render`` makes for a frame of ``frame_shape``."""
    rows, cols = as_image(np.empty(frame_shape, dtype=np.uint8)).shape
    return cols, rows + GAP + colour_bar_height(rows)


def colour_indices(
    image: np.ndarray[Any, Any], low: float, high: float
) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Each value's index into the 256-colour table (0 for ``low``, 255 for ``high``)."""
    values = image.astype(np.float64)
    span = high - low
    if not span > 0 or not np.isfinite(span):
        return np.zeros(image.shape, dtype=np.intp)
    scaled = np.clip((values - low) * (255.0 / span), 0.0, 255.0)
    return np.nan_to_num(scaled, nan=0.0).astype(np.intp)


def render(frame: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], float, float]:
    """RGB rows (height x width x 3, uint8) of the image and its colour bar, and the scale."""
    image = as_image(frame)
    if image.dtype.kind == "c":
        image = np.abs(image)
    finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    rows, cols = image.shape
    rgb = _TABLE[colour_indices(image, low, high)]
    if image.dtype.kind == "f":
        rgb[np.isnan(image)] = NAN_RGB
    bar_row = _TABLE[np.linspace(0, 255, cols).astype(np.intp)] if cols > 1 else _TABLE[[255]]
    gap = np.full((GAP, cols, 3), 255, dtype=np.uint8)
    bar = np.broadcast_to(bar_row, (colour_bar_height(rows), cols, 3))
    return np.concatenate([rgb, gap, bar]), low, high


def encode_png(rgb: np.ndarray[Any, Any], text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of ``rgb`` (height x width x 3 uint8), with optional Latin-1 text chunks."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"encode_png: need height x width x 3 uint8, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # filter type 0 (None) per row
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    parts = [SIGNATURE, _chunk(b"IHDR", _IHDR.pack(width, height, 8, _RGB, 0, 0, 0))]
    for key, value in (text or {}).items():
        parts.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
    parts.append(_chunk(b"IDAT", zlib.compress(rows.tobytes(), ZLIB_LEVEL)))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return _LENGTH.pack(len(body)) + kind + body + _LENGTH.pack(crc)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: a viewer never sees half an image."""
    directory = path.resolve().parent
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(temp).chmod(0o644)  # mkstemp's 0600 would hide the image from a web server
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_frame_png(path: Path, frame: np.ndarray[Any, Any], title: str) -> tuple[float, float]:
    """Write ``frame`` as a PNG at ``path`` (atomically); returns the colour scale (low, high)."""
    rgb, low, high = render(frame)
    text = {"Title": title, "Comment": f"viridis scale {low:g} (left) to {high:g} (right)"}
    write_atomic(path, encode_png(rgb, text))
    return low, high
