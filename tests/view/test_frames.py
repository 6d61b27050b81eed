"""Frames cut, binned and packed for the page (pure numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from h5swmr import InvalidArgumentError
from h5swmr.view.frames import (
    Packed,
    Reduced,
    Region,
    bin_mean,
    decode_message,
    encode_message,
    finite_range,
    pack,
    plane,
    reduce_line,
    reduce_plane,
    roi_stats,
    step_for,
)


def test_a_frame_that_fits_is_sent_as_it_is() -> None:
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    reduced = reduce_plane(image, Region.whole((3, 4)), (100, 100))
    assert reduced.step == 1
    assert reduced.data.dtype == np.float32
    np.testing.assert_array_equal(reduced.data, image)


def test_a_big_frame_is_binned_to_the_screen_by_block_means() -> None:
    image = np.arange(1024 * 1024, dtype=np.uint16).reshape(1024, 1024)
    reduced = reduce_plane(image, Region.whole(image.shape), (600, 800))
    assert reduced.step == 2
    assert reduced.data.shape == (512, 512)
    expected = image.reshape(512, 2, 512, 2).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_allclose(reduced.data, expected, rtol=1e-6)


def test_partial_blocks_at_the_edges_average_what_they_hold() -> None:
    cut = np.arange(5 * 7, dtype=np.float64).reshape(5, 7)
    out = bin_mean(cut, 3)
    assert out.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            block = cut[i * 3 : i * 3 + 3, j * 3 : j * 3 + 3]
            assert out[i, j] == pytest.approx(block.mean())


def test_a_region_is_cut_before_binning_and_clipped_to_the_plane() -> None:
    image = np.arange(100, dtype=np.int32).reshape(10, 10)
    reduced = reduce_plane(image, Region(2, 4, 5, 50), (64, 64))
    assert reduced.region == Region(2, 4, 5, 10)
    np.testing.assert_array_equal(reduced.data, image[2:4, 5:10])
    assert Region(-5, -1, 20, 30).clipped((10, 10)) == Region(0, 1, 9, 10)


def test_step_never_exceeds_what_the_screen_needs() -> None:
    assert step_for((1000, 10), (100, 100)) == 10
    assert step_for((10, 10), (1, 1)) == 10
    assert step_for((10, 10), (0, 0)) == 10  # a zero size is taken as one pixel


def test_frames_of_three_dimensions_are_cut_at_the_slice() -> None:
    frame = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    cut, chosen = plane(frame, (1,))
    assert chosen == (1,)
    np.testing.assert_array_equal(cut, frame[1])
    _, chosen = plane(frame, (99,))
    assert chosen == (1,)  # clipped


def test_lines_are_binned_to_the_width() -> None:
    line = np.arange(1000, dtype=np.float64)
    reduced = reduce_line(line, 100)
    assert reduced.step == 10
    np.testing.assert_allclose(reduced.data, line.reshape(100, 10).mean(axis=1))


def test_non_numbers_are_refused_by_name() -> None:
    with pytest.raises(InvalidArgumentError, match="S4"):
        reduce_line(np.array([b"abcd"]), 10)


def test_roi_sums_ignore_nans() -> None:
    image = np.ones((4, 4), dtype=np.float32)
    image[0, 0] = np.nan
    total, mean = roi_stats(image, Region(0, 2, 0, 2))
    assert (total, mean) == (3.0, 1.0)


def test_finite_range_skips_nan_and_inf() -> None:
    assert finite_range(np.array([np.nan, 1, np.inf, -2], dtype=np.float32)) == (-2.0, 1.0)
    assert finite_range(np.array([np.nan], dtype=np.float32)) == (None, None)


def _packed(data: np.ndarray[Any, Any], source: str, step: int = 1) -> Packed:
    reduced = Reduced(data, Region(0, 1, 0, 1), step)
    return pack(reduced, np.dtype(source), *finite_range(data))


def test_messages_round_trip_with_aligned_float32_data() -> None:
    data = np.array([[0.5, np.nan, -np.inf], [1e30, -2.25, 3]], dtype=np.float32)
    message = encode_message({"type": "frame", "dims": [2, 3], "x": "é"}, _packed(data, "f8"))
    length = int.from_bytes(message[:4], "little")
    assert (4 + length) % 4 == 0  # a Float32Array can view the data in place
    header, back = decode_message(message)
    assert header["x"] == "é" and header["encoding"] == "<f4"
    np.testing.assert_array_equal(back, data)


@pytest.mark.parametrize(
    ("values", "source", "encoding"),
    [([0, 7, 255], "u1", "|u1"), ([1000, 1255], "u2", "|u1"), ([-5, 60000], "i4", "<u2")],
)
def test_integer_frames_travel_exactly_in_one_or_two_bytes(
    values: list[int], source: str, encoding: str
) -> None:
    data = np.array([values], dtype=np.float32)
    message = encode_message({"dims": list(data.shape)}, _packed(data, source))
    header, back = decode_message(message)
    assert header["encoding"] == encoding
    assert len(message) - 4 - int.from_bytes(message[:4], "little") < data.size * 4
    np.testing.assert_array_equal(back, data)


def test_binned_integers_are_exact_in_full_blocks_and_wide_ranges_stay_float32() -> None:
    frame = np.random.default_rng(3).integers(0, 4000, (9, 9), dtype=np.uint16)
    reduced = reduce_plane(frame, Region.whole(frame.shape), (5, 5))  # 2x2 blocks, edges of 1
    packed = pack(reduced, frame.dtype, *finite_range(reduced.data))
    assert packed.encoding == "<u2" and packed.scale == 0.25
    _, back = decode_message(encode_message({"dims": [5, 5]}, packed))
    full = frame[:8, :8].reshape(4, 2, 4, 2).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_array_equal(back[:4, :4], full.astype(np.float32))
    np.testing.assert_allclose(back, reduced.data, atol=0.125)
    wide = np.array([[0, 70000]], dtype=np.float32)
    assert _packed(wide, "u4").encoding == "<f4"
