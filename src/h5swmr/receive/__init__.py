"""Detector streams in: DECTRIS Stream V2 (CBOR over ZeroMQ) written as SWMR files.

- ``Receiver`` (a PULL client) and ``ReceiveOptions``: each series into one file, or part files
  every N frames, or one part per receiver, with a VDS master in ``image_id`` order;
- ``Publisher``: a Stream V2 source with synthetic frames (``h5swmr simulate --publish``);
- ``cbor.loads``/``cbor.dumps`` and ``messages.parse``: the protocol, checked field by field.

Needs the ``receive`` extra (pyzmq, cbor2, dectris-compression), imported when first used.
"""

from __future__ import annotations

from h5swmr.receive.publisher import Publisher
from h5swmr.receive.receiver import Receiver, ReceiverStats, summary
from h5swmr.receive.series import ReceiveOptions, SeriesCounts, SeriesReport

__all__ = [
    "Publisher",
    "ReceiveOptions",
    "Receiver",
    "ReceiverStats",
    "SeriesCounts",
    "SeriesReport",
    "summary",
]
