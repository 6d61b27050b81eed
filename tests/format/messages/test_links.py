"""Link, link info, attribute info, group info, reference count and continuation messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages import DECODERS, decode_message
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.continuation import ContinuationMessage
from h5swmr.format.messages.group_info import GroupInfoMessage
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.format.messages.reference_count import ReferenceCountMessage
from tests.format.conftest import check_structure
from tests.format.messages.oracle import Oracle, every_message

names = st.text(min_size=1, max_size=300).filter(lambda s: "/" not in s and s != ".")


@given(names, st.integers(0, 2**64 - 2), st.one_of(st.none(), st.integers(0, 2**62)))
def test_link_round_trip(name: str, address: int, order: int | None) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return
    check_structure(LinkMessage(name, address, creation_order=order), garbage_rounds=3)


def test_link_battery_and_rules() -> None:
    assert LinkMessage("data", 0x1234).encode() == bytes.fromhex("010004646174613412000000000000")
    check_structure(LinkMessage("é", 8))
    check_structure(LinkMessage("s", link_type=LinkType.SOFT, target="/a/b"))
    check_structure(LinkMessage("e", link_type=LinkType.EXTERNAL, target="/y", file_name="x.h5"))
    for bad in ("", ".", "a/b", "\udc80"):
        with pytest.raises(FormatError):
            LinkMessage(bad, 8)


def test_link_oracle(oracle: Oracle) -> None:
    raw = [m.body for m in oracle.find("g1", 0x06)]
    by_name = {LinkMessage.decode(b).name: (LinkMessage.decode(b), b) for b in raw}
    hard, body = by_name["data"]
    assert LinkMessage("data", hard.address).encode() == body
    soft, body = by_name["é"]
    assert soft == LinkMessage("é", link_type=LinkType.SOFT, target="/g1") and soft.encode() == body
    ext, body = by_name["ext"]
    assert (ext.file_name, ext.target) == ("other.h5", "/y") and ext.encode() == body
    for i in range(12):
        (link,) = [LinkMessage.decode(m.body) for m in oracle.find("g12", 0x06)][i : i + 1]
        assert LinkMessage(link.name, link.address).encode() == oracle.find("g12", 0x06)[i].body


def test_link_info() -> None:
    assert LinkInfoMessage().encode() == b"\x00\x00" + b"\xff" * 16
    check_structure(LinkInfoMessage())
    check_structure(LinkInfoMessage(5, 100, 200, 300))
    check_structure(LinkInfoMessage(max_creation_index=7))


def test_link_info_oracle(oracle: Oracle) -> None:
    assert LinkInfoMessage().encode() == oracle.one("g1", 0x02)
    dense = LinkInfoMessage.decode(oracle.one("g12_default", 0x02))
    assert not dense.is_compact


addresses = st.integers(0, 2**64 - 1)


@given(
    st.one_of(st.none(), st.integers(0, 2**16 - 1)),
    addresses,
    addresses,
    st.one_of(st.none(), addresses),
)
def test_attribute_info_round_trip(
    max_index: int | None, heap: int, name_index: int, order_index: int | None
) -> None:
    if order_index is not None and max_index is None:
        with pytest.raises(FormatError):
            AttributeInfoMessage(max_index, heap, name_index, order_index)
        return
    check_structure(
        AttributeInfoMessage(max_index, heap, name_index, order_index), garbage_rounds=3
    )


def test_attribute_info_rules() -> None:
    assert AttributeInfoMessage().encode() == b"\x00\x00" + b"\xff" * 16
    assert not AttributeInfoMessage().is_dense
    for bad in (-1, 1 << 16):
        with pytest.raises(FormatError):
            AttributeInfoMessage(max_creation_index=bad)
    for body in (b"\x01\x00" + b"\xff" * 16, b"\x00\x04" + b"\xff" * 16, b"\x00\x00\xff"):
        with pytest.raises(FormatError):
            AttributeInfoMessage.decode(body)


def test_attribute_info_oracle(oracle: Oracle, oracle_v114: Oracle) -> None:
    for o in (oracle, oracle_v114):
        assert AttributeInfoMessage().encode() == o.one("attrs_few", 0x15)
        dense = AttributeInfoMessage.decode(o.one("attrs_dense", 0x15))
        assert dense.is_dense and dense.encode() == o.one("attrs_dense", 0x15)
        ordered = AttributeInfoMessage.decode(o.one("attrs_ordered", 0x15))
        assert ordered == AttributeInfoMessage(3, creation_order_index_address=UNDEFINED_ADDRESS)
        assert ordered.encode() == o.one("attrs_ordered", 0x15)


@given(st.integers(0, 2000))
def test_group_info_for_links(n: int) -> None:
    m = GroupInfoMessage.for_links(n)
    check_structure(m, garbage_rounds=3)
    if n > 8:
        assert m.max_compact is not None and m.min_dense is not None
        assert m.max_compact >= n and m.min_dense <= m.max_compact


def test_group_info_oracle(oracle: Oracle) -> None:
    assert GroupInfoMessage.for_links(1).encode() == oracle.one("g1", 0x0A) == b"\x00\x00"
    assert GroupInfoMessage.for_links(12).encode() == oracle.one("g12", 0x0A)
    assert len(oracle.find("g12", 0x06)) == 12  # libhdf5 kept all 12 links compact
    assert oracle.find("g12", 0x0A)[0].flags == GroupInfoMessage.FLAGS
    check_structure(GroupInfoMessage(12, 6, 4, 8))
    with pytest.raises(FormatError):
        GroupInfoMessage(4, 6)


def test_reference_count_and_continuation(oracle: Oracle) -> None:
    assert ReferenceCountMessage(2).encode() == oracle.one("d_f4", 0x16)
    assert oracle.find("d_f4", 0x16)[0].flags == ReferenceCountMessage.FLAGS
    check_structure(ReferenceCountMessage(3))
    (cont,) = oracle.find("g12", 0x10)[:1]
    decoded = ContinuationMessage.decode(cont.body)
    assert decoded.encode() == cont.body and decoded.address != UNDEFINED_ADDRESS
    check_structure(ContinuationMessage(4096, 256))


def test_every_oracle_message_decodes(oracle: Oracle, oracle_v114: Oracle) -> None:
    seen = set()
    for o in (oracle, oracle_v114):
        for _, raw in every_message(o):
            if raw.type in DECODERS:
                assert decode_message(raw.type, raw.body) is not None
                seen.add(raw.type)
    assert seen == set(DECODERS)
