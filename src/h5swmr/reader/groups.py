"""A group's links, however they are stored: link messages (compact), a fractal heap with a v2
B-tree name index (dense), or a symbol table (v1 B-tree + local heap, libhdf5's default format)."""

from __future__ import annotations

from h5swmr.access.source import FileSource
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.object_header import RawMessage, find_message, find_messages
from h5swmr.reader.dense import read_dense_link_messages
from h5swmr.reader.links import Link, link_from_message
from h5swmr.reader.symbol_groups import read_symbol_table_links


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
