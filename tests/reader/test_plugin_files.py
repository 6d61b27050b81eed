"""Files written by h5py with hdf5plugin's codecs (LZ4, bitshuffle, zstd, blosc) read bit for
bit as h5py reads them, through FilterPipeline.from_message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from h5swmr.reader import SwmrFileReader
from tests.reader.oracle import assert_same_as_h5py

hdf5plugin = pytest.importorskip("hdf5plugin")


def _codecs() -> dict[str, Any]:
    b = hdf5plugin.Blosc
    return {
        "lz4": hdf5plugin.LZ4(),
        "lz4_small_blocks": hdf5plugin.LZ4(nbytes=512),
        "bitshuffle": hdf5plugin.Bitshuffle(cname="none"),
        "bitshuffle_lz4": hdf5plugin.Bitshuffle(cname="lz4"),
        "bitshuffle_zstd": hdf5plugin.Bitshuffle(cname="zstd"),
        "zstd": hdf5plugin.Zstd(),
        "zstd_level_15": hdf5plugin.Zstd(clevel=15),
        "blosc_lz4_shuffle": b(cname="lz4", clevel=5, shuffle=b.SHUFFLE),
        "blosc_blosclz_noshuffle": b(cname="blosclz", clevel=9, shuffle=b.NOSHUFFLE),
        "blosc_zstd_bitshuffle": b(cname="zstd", clevel=3, shuffle=b.BITSHUFFLE),
        "blosc_zlib": b(cname="zlib", clevel=6, shuffle=b.SHUFFLE),
        "blosc_lz4hc": b(cname="lz4hc", clevel=9, shuffle=b.SHUFFLE),
    }


DTYPES: list[type[np.generic]] = [np.uint16, np.float32, np.int64]


def _data(dtype: type[np.generic], shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = np.arange(int(np.prod(shape))).reshape(shape) % 251
    return (base + rng.integers(0, 4, shape)).astype(dtype)


@pytest.fixture(scope="module", params=["latest", "default"])
def plugin_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plugins") / f"{request.param}.h5"
    kw = {"libver": "latest"} if request.param == "latest" else {}
    with h5py.File(path, "w", **kw) as f:
        for name, codec in _codecs().items():
            for dtype in DTYPES:
                label = f"{name}_{np.dtype(dtype).name}"
                # frames: an extensible array (latest) or v1 B-tree (default), partial edge chunks
                ds = f.create_dataset(
                    label,
                    shape=(0, 33, 20),
                    maxshape=(None, 33, 20),
                    chunks=(2, 16, 20),
                    dtype=dtype,
                    **codec,
                )
                ds.resize((7, 33, 20))
                ds[...] = _data(dtype, (7, 33, 20))
            f.create_dataset(f"{name}_fixed", data=_data(np.int32, (40, 9)), chunks=(8, 9), **codec)
        f.create_dataset(
            "lz4_fletcher32",
            data=_data(np.uint16, (5, 64, 64)),
            chunks=(1, 64, 64),
            fletcher32=True,
            **hdf5plugin.LZ4(),
        )
    return path


def test_every_codec_bit_for_bit(plugin_file: Path) -> None:
    names = assert_same_as_h5py(plugin_file)
    assert len(names) == len(_codecs()) * (len(DTYPES) + 1) + 1


def test_pipelines_name_the_plugin_filters(plugin_file: Path) -> None:
    ids = {"lz4": 32004, "bitshuffle": 32008, "zstd": 32015, "blosc": 32001}
    with SwmrFileReader.open(plugin_file) as r:
        for name in _codecs():
            state = r._dataset(f"{name}_uint16")
            assert state.pipeline is not None
            filter_ids = [f.filter_id for f in state.pipeline.filters]
            assert ids[name.split("_")[0]] in filter_ids, (name, filter_ids)


def test_frames_one_by_one(plugin_file: Path) -> None:
    with h5py.File(plugin_file, "r") as f, SwmrFileReader.open(plugin_file) as r:
        for name in ("bitshuffle_lz4_float32", "blosc_zstd_bitshuffle_int64", "zstd_uint16"):
            for i in range(7):
                assert r.read_frame(name, i).tobytes() == f[name][i].tobytes()
