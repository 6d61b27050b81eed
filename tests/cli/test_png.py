"""``cli/png.py``: PNG bytes checked chunk by chunk (signature, IHDR, CRCs, IDAT), colours."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from h5swmr.cli.png import (
    GAP,
    MAX_SIDE,
    NAN_RGB,
    SIGNATURE,
    as_image,
    colour_bar_height,
    encode_png,
    image_size,
    render,
    viridis_table,
    write_atomic,
    write_frame_png,
)


def parse_png(data: bytes) -> tuple[dict[str, Any], np.ndarray[Any, Any]]:
    """Checks signature, chunk CRCs and order; returns IHDR fields, text, and the RGB pixels."""
    assert data[:8] == SIGNATURE
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        position += 12 + length
    assert position == len(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + 3 * width)
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()  # filter type None on every row
    text = dict(body.split(b"\0", 1) for kind, body in chunks if kind == b"tEXt")
    info = {"width": width, "height": height, "text": text}
    return info, rows[:, 1:].reshape(height, width, 3)


def test_viridis_table_runs_dark_blue_to_yellow() -> None:
    table = viridis_table()
    assert table.shape == (256, 3)
    assert table.dtype == np.uint8
    assert tuple(table[0]) == (68, 1, 84)
    assert tuple(table[-1]) == (253, 231, 37)
    assert len({tuple(rgb) for rgb in table}) > 200
    brightness = table.astype(int).sum(axis=1)
    assert brightness[-1] > brightness[128] > brightness[0]


def test_encode_png_round_trips_pixels_and_text() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    info, pixels = parse_png(encode_png(rgb, {"Title": "frame 3"}))
    assert (info["width"], info["height"]) == (5, 7)
    assert info["text"] == {b"Title": b"frame 3"}
    np.testing.assert_array_equal(pixels, rgb)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.uint16)])
def test_encode_png_refuses_non_rgb8(bad: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(bad)


@pytest.mark.parametrize(
    ("shape", "image_shape"),
    [((30, 40), (30, 40)), ((3, 30, 40), (30, 40)), ((50,), (1, 50)), ((2, 3, 30, 40), (30, 40))],
)
def test_as_image_2d_first_plane_or_row(
    shape: tuple[int, ...], image_shape: tuple[int, int]
) -> None:
    frame = np.arange(np.prod(shape)).reshape(shape)
    image = as_image(frame)
    assert image.shape == image_shape
    if len(shape) == 3:
        np.testing.assert_array_equal(image, frame[0])


def test_large_frames_are_decimated_to_max_side() -> None:
    image = as_image(np.zeros((MAX_SIDE * 2 + 1, 300), np.uint8))  # every 3rd pixel
    assert image.shape == (-(-(MAX_SIDE * 2 + 1) // 3), 100)
    assert max(image.shape) <= MAX_SIDE


def test_render_colours_scale_and_bar() -> None:
    frame = np.array([[0, 5, 10], [10, 0, 5]], dtype=np.uint16)
    rgb, low, high = render(frame)
    table = viridis_table()
    assert (low, high) == (0.0, 10.0)
    assert rgb.shape == (2 + GAP + colour_bar_height(2), 3, 3)
    assert tuple(rgb[0, 0]) == tuple(table[0])
    assert tuple(rgb[0, 2]) == tuple(table[255])
    assert (rgb[2 : 2 + GAP] == 255).all()
    bar = rgb[2 + GAP :]
    assert tuple(bar[0, 0]) == tuple(table[0])
    assert tuple(bar[-1, -1]) == tuple(table[255])


def test_render_constant_and_nan_frames() -> None:
    rgb, low, high = render(np.full((4, 4), 7.0))
    assert low == high == 7.0
    assert len({tuple(p) for p in rgb[:4].reshape(-1, 3)}) == 1
    frame = np.arange(16, dtype=np.float32).reshape(4, 4)
    frame[1, 1] = np.nan
    rgb, low, high = render(frame)
    assert (low, high) == (0.0, 15.0)
    assert tuple(rgb[1, 1]) == NAN_RGB
    rgb, low, high = render(np.full((2, 2), np.nan))
    assert (rgb[:2] == NAN_RGB).all()


@pytest.mark.parametrize(
    ("shape", "dtype"), [((32, 48), "uint16"), ((2, 20, 10), "float32"), ((64,), "int8")]
)
def test_write_frame_png_is_decodable(shape: tuple[int, ...], dtype: str, tmp_path: Path) -> None:
    frame = np.random.default_rng(0).integers(0, 100, shape).astype(dtype)
    out = tmp_path / "latest.png"
    low, high = write_frame_png(out, frame, "test:frame 0")
    info, pixels = parse_png(out.read_bytes())
    assert (info["width"], info["height"]) == image_size(shape)
    assert info["text"][b"Title"] == b"test:frame 0"
    assert (low, high) == (float(frame.min()), float(frame.max()))
    assert pixels.shape == (info["height"], info["width"], 3)
    assert list(tmp_path.iterdir()) == [out]  # the temp file was renamed, not left behind
    assert out.stat().st_mode & 0o644 == 0o644


def test_write_atomic_replaces_and_cleans_up_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    write_atomic(out, b"one")
    write_atomic(out, b"two")
    assert out.read_bytes() == b"two"
    with pytest.raises(TypeError):
        write_atomic(out, "not bytes")  # type: ignore[arg-type]
    assert out.read_bytes() == b"two"
    assert list(tmp_path.iterdir()) == [out]
