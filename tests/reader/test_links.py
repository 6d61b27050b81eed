"""Links as the reader hands them out (reader/links.py), from the link messages libhdf5 wrote:
hard links with the address libhdf5 reports, soft and external links with their targets."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from h5swmr.format.constants import MessageType
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.object_header import find_messages
from h5swmr.reader.links import Link, link_from_message
from tests.reader.objects import h5py_address, object_messages


def test_each_kind_of_link_message(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:  # compact: one link message each
        f["data"] = np.arange(3)
        f["soft"] = h5py.SoftLink("/data")
        f["ext"] = h5py.ExternalLink("other.h5", "/entry/data")
    with object_messages(tmp_h5, "/") as (_, messages):
        raw = find_messages(messages, MessageType.LINK)
        links = {
            link.name: link for link in (link_from_message(LinkMessage.decode(m.body)) for m in raw)
        }
    assert links == {
        "data": Link("data", "hard", h5py_address(tmp_h5, "data")),
        "soft": Link("soft", "soft", target="/data"),
        "ext": Link("ext", "external", target="/entry/data", file_name="other.h5"),
    }
