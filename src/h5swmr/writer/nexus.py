"""NeXus layout (``nexus=True``): where detector data, links, keys and the finished flag go.

The layout NDFileHDF5 made familiar: ``/entry`` (NXentry), the data in
``/entry/instrument/detector`` (NXdetector) and a hard link to it in ``/entry/data`` (NXdata,
whose ``signal`` names the first dataset). For readers that follow files the way swmr-tools does
(``KeyFollower``): one key dataset per data dataset in ``/entry/live/keys`` whose element i is
non-zero (i + 1) once frame i is readable, published after the frame, and ``/entry/live/finished``,
``[0]`` while the file is written and ``[1]`` once ``close`` has published the last frame.
NeXus fields are datasets: ``/entry/start_time`` (ISO 8601, when the file was created) is
written with the groups, and ``write_dataset``/``write_string_dataset`` with a bare name put a
field in the NXdetector group (``x_pixel_size``, ``distance``, ``count_time``, ...).
"""

from __future__ import annotations

from typing import Final

ENTRY: Final = "/entry"
DETECTOR: Final = "/entry/instrument/detector"
DATA: Final = "/entry/data"
LIVE: Final = "/entry/live"
KEYS: Final = "/entry/live/keys"
FINISHED: Final = "/entry/live/finished"
START_TIME: Final = "/entry/start_time"
KEY_CHUNK: Final = 1024
"""Keys per chunk: keys are 8 bytes each, written in place as frames arrive."""

GROUP_CLASSES: Final = {
    ENTRY: "NXentry",
    "/entry/instrument": "NXinstrument",
    DETECTOR: "NXdetector",
    DATA: "NXdata",
    LIVE: "NXcollection",
    KEYS: "NXcollection",
}


def is_bare_name(name: str) -> bool:
    """A dataset name without a path goes where NeXus expects detector data."""
    return "/" not in name.strip()


def detector_path(name: str) -> str:
    return f"{DETECTOR}/{name.strip()}"
