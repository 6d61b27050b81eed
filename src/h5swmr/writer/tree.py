"""The writer's picture of the file's groups, datasets and hard links, kept in memory.

Groups are written anew (at fresh addresses) whenever the structure is published, so they can grow
before ``start_swmr`` and gain links made afterwards at ``close``; dataset object headers are sized
for life and rewritten in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.object_header import RawMessage
from h5swmr.format.paths import split_path


@dataclass(eq=False, slots=True)
class Node:
    """An object in the file: its object header address once allocated, and its hard links."""

    path: str
    address: int = UNDEFINED_ADDRESS
    link_count: int = 0
    published_link_count: int = 0
    """Links as last written; a link made while streaming is published only at close."""
    attributes: dict[str, RawMessage] = field(default_factory=dict)
    """Attributes h5swmr writes, by name, encoded."""
    attributes_changed: bool = False


@dataclass(eq=False, slots=True)
class KeptNode(Node):
    """An object of a reopened file whose header h5swmr keeps as it is, never rewritten (so it
    takes no new attribute or link): ``reason`` says why, for the error that refuses them."""

    reason: str = ""


@dataclass(eq=False, slots=True)
class GroupNode(Node):
    links: dict[str, Node] = field(default_factory=dict)
    extra_messages: list[RawMessage] = field(default_factory=list)
    """Messages of a reopened group that h5swmr keeps verbatim: soft and external links,
    attributes."""


@dataclass(eq=False, slots=True)
class DatasetNode(Node):
    index: int = -1
    """The dataset's number, as create_streaming_dataset returned it."""


class Tree:
    """Groups, datasets and the hard links between them."""

    def __init__(self) -> None:
        self.root = GroupNode("/", link_count=1)  # the superblock points at the root

    def groups(self) -> list[GroupNode]:
        """Every group once, parents before children."""
        seen: dict[int, GroupNode] = {}
        stack: list[GroupNode] = [self.root]
        while stack:
            group = stack.pop(0)
            if id(group) in seen:
                continue
            seen[id(group)] = group
            stack.extend(n for n in group.links.values() if isinstance(n, GroupNode))
        return list(seen.values())

    def resolve(self, path: str) -> Node | None:
        node: Node = self.root
        for part in split_path(path):
            if not isinstance(node, GroupNode) or part not in node.links:
                return None
            node = node.links[part]
        return node

    def require_group(self, parts: list[str]) -> GroupNode:
        """The group at ``parts``, creating missing groups on the way."""
        group = self.root
        for depth, part in enumerate(parts):
            child = group.links.get(part)
            if child is None:
                child = GroupNode("/" + "/".join(parts[: depth + 1]))
                self.link(group, part, child)
            if not isinstance(child, GroupNode):
                raise InvalidArgumentError(
                    f"{child.path!r} is a dataset, so it cannot hold {'/'.join(parts)!r}"
                )
            group = child
        return group

    def link(self, group: GroupNode, name: str, node: Node) -> None:
        if name in group.links:
            where = group.path.rstrip("/") + "/" + name
            raise InvalidArgumentError(f"{where!r} already exists")
        group.links[name] = node
        node.link_count += 1
