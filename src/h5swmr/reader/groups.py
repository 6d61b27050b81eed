"""A group's links, however they are stored: link messages (compact), a fractal heap with a v2
B-tree name index (dense), or a symbol table (v1 B-tree + local heap, libhdf5's default format)."""

from __future__ import annotations

from dataclasses import dataclass

from h5swmr.access.source import FileSource
from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageType
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.object_header import RawMessage, find_message, find_messages
from h5swmr.reader.dense import read_dense_link_messages
from h5swmr.reader.symbol_groups import read_symbol_table_links


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


def is_group(messages: tuple[RawMessage, ...]) -> bool:
    kinds = {m.type for m in messages}
    return bool(kinds & {MessageType.LINK_INFO, MessageType.SYMBOL_TABLE, MessageType.LINK}) and (
        MessageType.LAYOUT not in kinds
    )


def read_links(src: FileSource, messages: tuple[RawMessage, ...]) -> dict[str, Link]:
    """Name -> Link for the group whose header holds ``messages``, in name order."""
    links: dict[str, Link] = {}
    symbol_table = find_message(messages, MessageType.SYMBOL_TABLE)
    if symbol_table is not None:
        links.update(read_symbol_table_links(src, symbol_table.body))
    for raw in find_messages(messages, MessageType.LINK):
        link = link_from_message(LinkMessage.decode(raw.body))
        links[link.name] = link
    info = find_message(messages, MessageType.LINK_INFO)
    if info is not None:
        decoded = LinkInfoMessage.decode(info.body)
        if not decoded.is_compact:
            links.update(read_dense_links(src, decoded))
    return dict(sorted(links.items()))


def read_dense_links(src: FileSource, info: LinkInfoMessage) -> dict[str, Link]:
    return {m.name: link_from_message(m) for m in read_dense_link_messages(src, info)}


def split_path(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p and p != "."]
    if any(p == ".." for p in parts):
        raise InvalidArgumentError(f"path {path!r}: '..' is not supported")
    return parts
