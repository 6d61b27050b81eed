"""Scale-out: many h5swmr files presented as one dataset through virtual datasets (VDS).

- ``RolloverWriter``: a new part file every N frames, one master file for all of them;
- ``write_master`` with ``run_mapping``/``interleaved_mapping``/``stripe_mapping``/
  ``printf_mapping``: masters for parts written by other processes (fan-out);
- ``h5swmr.scaleout.dask.as_dask_array``: a growing file as a Dask array;
- ``h5swmr.scaleout.distributed.DistributedWriter``: the fan-out as writer actors on a Dask
  cluster (``pip install "h5swmr[distributed]"``; imported only from there).
"""

from __future__ import annotations

from h5swmr.scaleout.fanout import stripe_rows, worker_frames, write_fanout_master
from h5swmr.scaleout.mappings import (
    interleaved_mapping,
    printf_mapping,
    run_mapping,
    strided_mapping,
    stripe_mapping,
)
from h5swmr.scaleout.master import (
    ExternalLink,
    GroupAttributes,
    HardLink,
    VirtualDataset,
    encode_master,
    write_master,
)
from h5swmr.scaleout.rollover import RolloverWriter

__all__ = [
    "ExternalLink",
    "GroupAttributes",
    "HardLink",
    "RolloverWriter",
    "VirtualDataset",
    "encode_master",
    "interleaved_mapping",
    "printf_mapping",
    "run_mapping",
    "stripe_mapping",
    "stripe_rows",
    "strided_mapping",
    "worker_frames",
    "write_fanout_master",
    "write_master",
]
