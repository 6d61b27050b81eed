"""Judges of HDF5 files written by h5swmr: real libhdf5 in every version we promise to support.

- :mod:`oracle.old_h5py`: h5py 3.8 (HDF5 1.12) and 3.11 (HDF5 1.14) in cached venvs, plus this
  interpreter's h5py (HDF5 2.x) in a child process: :func:`describe_with`, :func:`describe_current`.
- :mod:`oracle.h5dump`: Debian's hdf5-tools (HDF5 1.10): :func:`h5dump_header`, :func:`h5dump_data`.
- :mod:`oracle.live`: a reader process that follows a growing file with ``swmr=True``.

Tests import it as ``tests.oracle``.
"""

from tests.oracle.describe import (
    DatasetDescription,
    FileDescription,
    GroupDescription,
    LinkDescription,
    array_sha256,
)
from tests.oracle.h5dump import H5dumpError, h5dump_data, h5dump_header, h5dump_version
from tests.oracle.live import FOLLOW_SCRIPT, LiveReader, LiveReaderError, follow_dataset
from tests.oracle.old_h5py import (
    OLD_H5PY_VERSIONS,
    OldH5pyError,
    build_info,
    describe_current,
    describe_with,
    venv_python,
)

__all__ = [
    "FOLLOW_SCRIPT",
    "OLD_H5PY_VERSIONS",
    "DatasetDescription",
    "FileDescription",
    "GroupDescription",
    "H5dumpError",
    "LinkDescription",
    "LiveReader",
    "LiveReaderError",
    "OldH5pyError",
    "array_sha256",
    "build_info",
    "describe_current",
    "describe_with",
    "follow_dataset",
    "h5dump_data",
    "h5dump_header",
    "h5dump_version",
    "venv_python",
]
