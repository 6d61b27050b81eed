"""A group's named links as the reader hands them out, whatever message or table stored them."""

from __future__ import annotations

from dataclasses import dataclass

from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages.link import LinkMessage, LinkType


@dataclass(frozen=True, slots=True)
class Link:
    """One named link of a group: a hard link's object address, or a soft/external target."""

    name: str
    kind: str
    """"hard", "soft" or "external"."""
    address: int = UNDEFINED_ADDRESS
    target: str = ""
    file_name: str = ""


def link_from_message(message: LinkMessage) -> Link:
    if message.link_type == LinkType.HARD:
        return Link(message.name, "hard", message.address)
    if message.link_type == LinkType.SOFT:
        return Link(message.name, "soft", target=message.target)
    return Link(message.name, "external", target=message.target, file_name=message.file_name)
