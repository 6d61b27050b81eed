"""What a given h5py (this interpreter's, or an old wheel's venv) reads as values: every dataset's
data, dtype, shape, fill value and string type, and every attribute's value and Python type.

``describe`` (tests/oracle/describe.py) reports structure and digests; metadata datasets and
string attributes need the values themselves, strings included, so this script prints them as
JSON: numbers as numbers, strings as text (decoded by h5py), NaN as the string "nan".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.oracle.old_h5py import venv_python

TIMEOUT = 120.0

VALUES_SCRIPT = r"""
import json, math, sys
import h5py, numpy as np

def plain(value):
    if isinstance(value, bytes):
        return {"bytes": value.decode("utf-8", "surrogateescape")}
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.ndim else plain(value[()])
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, complex):
        return [value.real, value.imag]
    return value

def string_kind(dtype):
    info = h5py.check_string_dtype(dtype)
    if info is None:
        return None
    return {"encoding": info.encoding, "length": info.length}

out = {"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version, "objects": {}}

def visit(name, obj):
    entry = {"attrs": {}}
    for key in obj.attrs:
        value = obj.attrs[key]
        entry["attrs"][key] = {
            "value": plain(value),
            "type": type(value).__name__,
            "string": string_kind(obj.attrs.get_id(key).dtype),
        }
    if isinstance(obj, h5py.Dataset):
        kind = string_kind(obj.dtype)
        data = obj.asstr()[()] if kind is not None and kind["length"] is None else obj[()]
        entry.update(
            kind="dataset", shape=list(obj.shape), dtype=obj.dtype.str, string=kind,
            fillvalue=plain(obj.fillvalue), value=plain(data),
            raw_type=type(obj[()]).__name__ if obj.shape == () else None,
            layout=obj.id.get_create_plist().get_layout(), compression=obj.compression,
        )
    else:
        entry["kind"] = "group"
    out["objects"]["/" + name] = entry

with h5py.File(sys.argv[1], "r", swmr=len(sys.argv) > 2) as f:
    visit("", f)
    f.visititems(visit)
print(json.dumps(out))
"""


def read_values(
    path: str | os.PathLike[str], version: str | None = None, *, swmr: bool = False
) -> dict[str, Any]:
    """The values h5py ``version`` (None: this interpreter's) reads from the file: a closed
    one, or with ``swmr`` a live one, opened with ``swmr=True`` as a SWMR reader opens it."""
    python = sys.executable if version is None else str(venv_python(version))
    done = subprocess.run(
        [python, "-c", VALUES_SCRIPT, str(Path(path)), *(["swmr"] if swmr else [])],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode:
        raise AssertionError(f"h5py {version or 'current'} could not read {path}:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
