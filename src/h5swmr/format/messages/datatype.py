"""Datatype message, type 0x0003 (spec §IV.A.2.d; libhdf5 H5Odtype.c H5O__dtype_encode_helper).

Covers the types h5py writes for numeric numpy dtypes, as HDF5 2.0 stores them:

- integers (class 0) and IEEE floats (class 1), version 1, in the numpy dtype's byte order;
- complex64/complex128: a compound (class 6) of two floats named "r" and "i";
- numpy structured dtypes: a compound (class 6) of their fields, in numpy's order, at numpy's
  offsets, in numpy's itemsize (padding kept); a subarray field is an array (class 10);
- bool: an enum (class 8) of int8 with FALSE = 0 and TRUE = 1;
- fixed-length byte strings (class 3), NUL-padded ASCII as h5py stores ``S<n>``;
- variable-length strings (class 9, string kind; h5py's ``str``): a 16-byte reference into the
  global heap per element (format/global_heap.py ``VariableLengthReference``), over a base type
  of unsigned bytes, as libhdf5 writes it.

Compounds, arrays and enums are written as version 3: HDF5 2.0 with ``libver="latest"`` writes
the same bytes under version 5, which HDF5 1.10-1.14 cannot read. Versions 1-5 are decoded, and
big-endian atomic types too, so the reader can read files libhdf5 wrote.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Literal, Self, TypeAlias

import numpy as np

from h5swmr.errors import FormatError, InvalidDtypeError, UnsupportedError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_WHAT = "datatype message"
_HEADER = struct.Struct("<BHBI")  # version << 4 | class, class bit field (24 bits), size
_FIXED_PROPERTIES = struct.Struct("<HH")  # bit offset, precision
_FLOAT_PROPERTIES = struct.Struct("<HH4BI")  # offset, precision, exp loc/size, mant loc/size, bias
_ATOMIC_VERSION = 1
_COMPOSITE_VERSION = 3
_MAX_VERSION = 5
_MAX_DEPTH = 16
_ORDER_BE = 0x01
_FLOAT_ORDER_VAX = 0x40
_SIGNED = 0x08
_FIXED_KNOWN = 0x0F
_FLOAT_KNOWN = 0xFF7F
_SIGN_SHIFT = 8
_NORM_SHIFT = 4
_PAD_SHIFT = 1
_NORM_IMPLIED = 2
_STRING_CSET_SHIFT = 4


class DatatypeClass(IntEnum):
    FIXED_POINT = 0
    FLOATING_POINT = 1
    TIME = 2
    STRING = 3
    BITFIELD = 4
    OPAQUE = 5
    COMPOUND = 6
    REFERENCE = 7
    ENUM = 8
    VARIABLE_LENGTH = 9
    ARRAY = 10
    COMPLEX = 11


class StringPadding(IntEnum):
    NULL_TERMINATED = 0
    NULL_PADDED = 1
    SPACE_PADDED = 2


class StringCharset(IntEnum):
    ASCII = 0
    UTF8 = 1


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


@dataclass(frozen=True, slots=True)
class FixedPointType:
    """Class 0: an integer of ``size`` bytes."""

    size: int
    signed: bool
    big_endian: bool = False
    bit_offset: int = 0
    precision: int = -1
    """Bits of precision; -1 means all bits of ``size``."""
    padding: int = 0
    """Bits 1-2 of the class bit field (low and high padding bit values)."""

    def __post_init__(self) -> None:
        if self.precision == -1:
            object.__setattr__(self, "precision", 8 * self.size)
        if not 0 < self.size < 1 << 32 or not 0 <= self.bit_offset + self.precision <= 8 * (
            self.size
        ):
            raise _error(f"integer of {self.size} bytes, precision {self.precision}")

    def numpy_dtype(self) -> np.dtype[np.generic]:
        if self.size not in (1, 2, 4, 8) or (self.bit_offset, self.precision) != (
            0,
            8 * self.size,
        ):
            raise UnsupportedError(f"{_WHAT}: integer {self} has no numpy equivalent")
        order = ">" if self.big_endian and self.size > 1 else "<"
        return np.dtype(f"{order}{'i' if self.signed else 'u'}{self.size}")


@dataclass(frozen=True, slots=True)
class FloatType:
    """Class 1: a floating-point number described bit by bit."""

    size: int
    precision: int
    exponent_location: int
    exponent_size: int
    mantissa_location: int
    mantissa_size: int
    exponent_bias: int
    sign_location: int
    big_endian: bool = False
    normalization: int = _NORM_IMPLIED
    bit_offset: int = 0
    padding: int = 0
    """Bits 1-3 of the class bit field."""

    def __post_init__(self) -> None:
        if not 0 < self.size < 1 << 32 or self.bit_offset + self.precision > 8 * self.size:
            raise _error(f"float of {self.size} bytes, precision {self.precision}")
        if not 0 <= self.normalization <= 2 or not 0 <= self.sign_location <= 255:
            raise _error(f"float normalisation {self.normalization}, sign {self.sign_location}")

    @classmethod
    def ieee(cls, size: int, *, big_endian: bool = False) -> FloatType:
        exponent, mantissa, bias = _IEEE[size]
        bits = 8 * size
        return cls(size, bits, mantissa, exponent, 0, mantissa, bias, bits - 1, big_endian)

    def numpy_dtype(self) -> np.dtype[np.generic]:
        if self.size not in _IEEE or FloatType.ieee(self.size, big_endian=self.big_endian) != self:
            raise UnsupportedError(f"{_WHAT}: float {self} is not IEEE half/single/double")
        return np.dtype(f"{'>' if self.big_endian else '<'}f{self.size}")


_IEEE = {2: (5, 10, 15), 4: (8, 23, 127), 8: (11, 52, 1023)}
"""Bytes -> (exponent bits, mantissa bits, exponent bias)."""


@dataclass(frozen=True, slots=True)
class StringType:
    """Class 3: a fixed-length string of ``size`` bytes."""

    size: int
    padding: StringPadding = StringPadding.NULL_PADDED
    charset: StringCharset = StringCharset.ASCII

    def __post_init__(self) -> None:
        if not 0 < self.size < 1 << 32:
            raise _error(f"string of {self.size} bytes")
        try:
            object.__setattr__(self, "padding", StringPadding(self.padding))
            object.__setattr__(self, "charset", StringCharset(self.charset))
        except ValueError as exc:
            raise _error(f"string padding {self.padding}, charset {self.charset}") from exc

    def numpy_dtype(self) -> np.dtype[np.generic]:
        return np.dtype(f"S{self.size}")


@dataclass(frozen=True, slots=True)
class CompoundMember:
    name: str
    offset: int
    type: Datatype


@dataclass(frozen=True, slots=True)
class CompoundType:
    """Class 6: named members at byte offsets (a complex number, or a numpy structured dtype).

    Members must not overlap and must lie inside ``size``, as H5Tinsert requires: a file whose
    members do is refused (a numpy dtype cannot describe it, and its bytes mean nothing)."""

    size: int
    members: tuple[CompoundMember, ...]

    def __post_init__(self) -> None:
        if not 0 < self.size < 1 << 32 or not 0 < len(self.members) <= 0xFFFF:
            raise _error(f"compound of {self.size} bytes, {len(self.members)} members")
        for m in self.members:
            if not m.name or "\x00" in m.name or m.offset + m.type.size > self.size:
                raise _error(f"compound member {m.name!r} at offset {m.offset}")
        if len({m.name for m in self.members}) != len(self.members):
            raise _error("compound members with the same name")
        end, last = 0, ""
        for m in sorted(self.members, key=lambda m: m.offset):
            if m.offset < end:
                raise _error(f"compound member {m.name!r} at offset {m.offset} overlaps {last!r}")
            end, last = m.offset + m.type.size, m.name

    def numpy_dtype(self) -> np.dtype[np.generic]:
        if len(self.members) == 2:
            r, i = self.members
            half = self.size // 2
            if (
                (r.name, r.offset, i.name, i.offset) == ("r", 0, "i", half)
                and isinstance(r.type, FloatType)
                and r.type == i.type
                and r.type.size == half
                and half in (4, 8)
            ):
                part = r.type.numpy_dtype()
                return np.dtype(f"{part.byteorder if part.byteorder == '>' else '<'}c{self.size}")
        fields = {
            "names": [m.name for m in self.members],
            "formats": [m.type.numpy_dtype() for m in self.members],
            "offsets": [m.offset for m in self.members],
            "itemsize": self.size,
        }
        try:
            return np.dtype(fields)  # type: ignore[call-overload,no-any-return]
        except (TypeError, ValueError) as exc:
            raise UnsupportedError(f"{_WHAT}: compound {self} has no numpy equivalent") from exc


@dataclass(frozen=True, slots=True)
class ArrayType:
    """Class 10: a fixed-shape array of ``base`` (a numpy subarray field of a compound)."""

    dims: tuple[int, ...]
    base: Datatype

    def __post_init__(self) -> None:
        if not 0 < len(self.dims) <= _MAX_ARRAY_RANK or not all(d > 0 for d in self.dims):
            raise _error(f"array of dimensions {self.dims}")
        if self.size >= 1 << 32:
            raise _error(f"array of {self.dims} elements of {self.base.size} bytes")

    @property
    def size(self) -> int:
        return math.prod(self.dims) * self.base.size

    def numpy_dtype(self) -> np.dtype[np.generic]:
        try:
            return np.dtype((self.base.numpy_dtype(), self.dims))
        except (TypeError, ValueError) as exc:
            raise UnsupportedError(f"{_WHAT}: array {self} has no numpy equivalent") from exc


_MAX_ARRAY_RANK = 32
"""H5S_MAX_RANK: libhdf5 neither writes nor reads arrays of more dimensions."""


@dataclass(frozen=True, slots=True)
class EnumType:
    """Class 8: named values of an integer base type (h5swmr writes only h5py's bool)."""

    base: FixedPointType
    names: tuple[str, ...]
    values: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.values) or not 0 < len(self.names) <= 0xFFFF:
            raise _error(f"enum with {len(self.names)} names and {len(self.values)} values")
        if any(not n or "\x00" in n for n in self.names):
            raise _error(f"enum names {self.names}")
        low = -(1 << (8 * self.base.size - 1)) if self.base.signed else 0
        high = (1 << (8 * self.base.size - (1 if self.base.signed else 0))) - 1
        if any(not low <= v <= high for v in self.values):
            raise _error(f"enum values {self.values} do not fit {self.base}")

    @property
    def size(self) -> int:
        return self.base.size

    def numpy_dtype(self) -> np.dtype[np.generic]:
        if self.base == _BOOL_BASE and (self.names, self.values) == _BOOL_MEMBERS:
            return np.dtype(np.bool_)
        return self.base.numpy_dtype()


@dataclass(frozen=True, slots=True)
class VariableLengthStringType:
    """Class 9, string kind: each element is a reference into the global heap (h5py's default
    for ``str`` data and attributes); there is no numpy dtype for the stored element.

    libhdf5 stores the element size as 16 (length u32, heap collection address, object index
    u32) and a base type of unsigned bytes after the header (H5T__vlen_set_loc, H5Odtype.c).
    """

    size: int = 16
    padding: StringPadding = StringPadding.NULL_TERMINATED
    charset: StringCharset = StringCharset.UTF8

    def numpy_dtype(self) -> np.dtype[np.generic]:
        raise UnsupportedError(
            f"{_WHAT}: variable-length strings live in the global heap, not in the element"
        )


Datatype: TypeAlias = (
    FixedPointType
    | FloatType
    | StringType
    | CompoundType
    | ArrayType
    | EnumType
    | VariableLengthStringType
)

_BOOL_BASE = FixedPointType(1, signed=True)
_BOOL_MEMBERS = (("FALSE", "TRUE"), (0, 1))


@dataclass(frozen=True, slots=True)
class DatatypeMessage:
    """The element type of a dataset or attribute; ``datatype`` is one of the class records."""

    TYPE: ClassVar[MessageType] = MessageType.DATATYPE
    FLAGS: ClassVar[MessageFlags] = MessageFlags.CONSTANT

    datatype: Datatype

    @property
    def element_size(self) -> int:
        return self.datatype.size

    @classmethod
    def from_numpy(cls, dtype: object) -> DatatypeMessage:
        """The HDF5 type h5py stores for ``dtype``, in its byte order (as h5py keeps ``>i4``
        big-endian); InvalidDtypeError otherwise."""
        try:
            dt = np.dtype(dtype)  # type: ignore[call-overload]
        except TypeError as exc:
            raise InvalidDtypeError(f"{dtype!r} is not a numpy dtype") from exc
        return cls(_from_numpy(dt, top=True))

    def to_numpy(self) -> np.dtype[np.generic]:
        """The numpy dtype, in the stored byte order; UnsupportedError for other HDF5 types."""
        return self.datatype.numpy_dtype()

    def encode(self) -> bytes:
        return _encode(self.datatype)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        return cls(_decode(ByteCursor(buf, _WHAT), 0))


def _from_numpy(dt: np.dtype, *, top: bool = False) -> Datatype:
    """The HDF5 type of ``dt``; a subarray only inside a compound (at the top it is a shape)."""
    size = dt.itemsize
    big = dt.str[0] == ">"  # "=" is spelt out in .str; "|" (one byte) has no order
    if dt.metadata is None:
        if dt.fields is not None and dt.names and size > 0:
            members = tuple(
                CompoundMember(name, dt.fields[name][1], _from_numpy(dt.fields[name][0]))
                for name in dt.names
            )
            try:
                return CompoundType(size, members)
            except FormatError as exc:
                raise InvalidDtypeError(f"dtype {dt!r}: {exc}") from exc
        if dt.subdtype is not None and not top:
            base, shape = dt.subdtype
            if shape:
                return ArrayType(tuple(shape), _from_numpy(base))
            return _from_numpy(base)
        if dt.fields is None and dt.subdtype is None:
            if dt.kind in "iu" and size in (1, 2, 4, 8):
                return FixedPointType(size, signed=dt.kind == "i", big_endian=big)
            if dt.kind == "f" and size in _IEEE:
                return FloatType.ieee(size, big_endian=big)
            if dt.kind == "c" and size // 2 in (4, 8):
                part = FloatType.ieee(size // 2, big_endian=big)
                members = (CompoundMember("r", 0, part), CompoundMember("i", size // 2, part))
                return CompoundType(size, members)
            if dt.kind == "b":
                return EnumType(_BOOL_BASE, *_BOOL_MEMBERS)
            if dt.kind == "S" and size > 0:
                return StringType(size)
    raise InvalidDtypeError(
        f"dtype {dt!r} is not supported: use bool, (u)int8-64, float16/32/64, "
        "complex64/128, fixed-length bytes, or a structured dtype of these"
    )


def _header(version: int, kind: DatatypeClass, bits: int, size: int) -> bytes:
    return _HEADER.pack(version << 4 | kind, bits & 0xFFFF, bits >> 16, size)


def _encode(t: Datatype) -> bytes:
    if isinstance(t, FixedPointType):
        bits = int(t.big_endian) | t.padding << _PAD_SHIFT | (_SIGNED if t.signed else 0)
        head = _header(_ATOMIC_VERSION, DatatypeClass.FIXED_POINT, bits, t.size)
        return head + _FIXED_PROPERTIES.pack(t.bit_offset, t.precision)
    if isinstance(t, FloatType):
        bits = (
            int(t.big_endian)
            | t.padding << _PAD_SHIFT
            | t.normalization << _NORM_SHIFT
            | t.sign_location << _SIGN_SHIFT
        )
        head = _header(_ATOMIC_VERSION, DatatypeClass.FLOATING_POINT, bits, t.size)
        return head + _FLOAT_PROPERTIES.pack(
            t.bit_offset,
            t.precision,
            t.exponent_location,
            t.exponent_size,
            t.mantissa_location,
            t.mantissa_size,
            t.exponent_bias,
        )
    if isinstance(t, StringType):
        bits = t.padding | t.charset << _STRING_CSET_SHIFT
        return _header(_ATOMIC_VERSION, DatatypeClass.STRING, bits, t.size)
    if isinstance(t, CompoundType):
        parts = [_header(_COMPOSITE_VERSION, DatatypeClass.COMPOUND, len(t.members), t.size)]
        width = _offset_width(t.size)
        for m in t.members:
            parts += (m.name.encode("utf-8") + b"\x00", m.offset.to_bytes(width, "little"))
            parts.append(_encode(m.type))
        return b"".join(parts)
    if isinstance(t, ArrayType):
        head = _header(_COMPOSITE_VERSION, DatatypeClass.ARRAY, 0, t.size)
        dims = struct.pack(f"<B{len(t.dims)}I", len(t.dims), *t.dims)
        return head + dims + _encode(t.base)
    if isinstance(t, VariableLengthStringType):
        bits = _VL_STRING | t.padding << 4 | t.charset << 8
        head = _header(_ATOMIC_VERSION, DatatypeClass.VARIABLE_LENGTH, bits, t.size)
        return head + _encode(_VL_STRING_BASE)
    parts = [_header(_COMPOSITE_VERSION, DatatypeClass.ENUM, len(t.names), t.size), _encode(t.base)]
    parts += (n.encode("utf-8") + b"\x00" for n in t.names)
    order: Literal["big", "little"] = "big" if t.base.big_endian else "little"
    parts += (v.to_bytes(t.size, order, signed=t.base.signed) for v in t.values)
    return b"".join(parts)


def _offset_width(size: int) -> int:
    """Bytes of a compound member offset in version 3+: the fewest that hold ``size``."""
    return max(1, (size.bit_length() + 7) // 8)


def _name(cur: ByteCursor, version: int) -> str:
    start = cur.offset
    raw = cur.cstring()
    if version < _COMPOSITE_VERSION:  # padded with NULs to a multiple of 8 bytes
        cur.skip(-(cur.offset - start) % 8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"name {raw!r} is not UTF-8") from exc


def _decode(cur: ByteCursor, depth: int) -> Datatype:
    if depth > _MAX_DEPTH:
        raise _error(f"types nested deeper than {_MAX_DEPTH}")
    first, bits_low, bits_high, size = cur.unpack(_HEADER)
    version, raw_class, bits = first >> 4, first & 0x0F, bits_low | bits_high << 16
    if not 1 <= version <= _MAX_VERSION:
        raise _error(f"version {version}")
    if raw_class == DatatypeClass.FIXED_POINT:
        if bits & ~_FIXED_KNOWN:
            raise _error(f"integer class bits {bits:#x}")
        offset, precision = cur.unpack(_FIXED_PROPERTIES)
        return FixedPointType(
            size, bool(bits & _SIGNED), bool(bits & _ORDER_BE), offset, precision, bits >> 1 & 3
        )
    if raw_class == DatatypeClass.FLOATING_POINT:
        if bits & ~_FLOAT_KNOWN:
            raise _error(f"float class bits {bits:#x}")
        if bits & _FLOAT_ORDER_VAX:
            raise UnsupportedError(f"{_WHAT}: VAX-order floats are not supported")
        offset, precision, exp_loc, exp_size, mant_loc, mant_size, bias = cur.unpack(
            _FLOAT_PROPERTIES
        )
        normalization = bits >> _NORM_SHIFT & 3
        sign = bits >> _SIGN_SHIFT
        return FloatType(
            size, precision, exp_loc, exp_size, mant_loc, mant_size, bias, sign,
            bool(bits & _ORDER_BE), normalization, offset, bits >> 1 & 7,
        )  # fmt: skip
    if raw_class == DatatypeClass.STRING:
        if bits & ~0xFF:
            raise _error(f"string class bits {bits:#x}")
        return StringType(size, bits & 0x0F, bits >> _STRING_CSET_SHIFT)  # type: ignore[arg-type]
    if raw_class == DatatypeClass.COMPOUND:
        return _decode_compound(cur, version, bits, size, depth)
    if raw_class == DatatypeClass.ARRAY:
        return _decode_array(cur, version, size, depth)
    if raw_class == DatatypeClass.ENUM:
        base = _decode(cur, depth + 1)
        if not isinstance(base, FixedPointType) or base.size != size:
            raise _error(f"enum base {base} of size other than {size}")
        n = bits & 0xFFFF
        names = tuple(_name(cur, version) for _ in range(n))
        order: Literal["big", "little"] = "big" if base.big_endian else "little"
        values = tuple(int.from_bytes(cur.read(size), order, signed=base.signed) for _ in range(n))
        return EnumType(base, names, values)
    if raw_class == DatatypeClass.VARIABLE_LENGTH and bits & 0x0F == _VL_STRING:
        _decode(cur, depth + 1)  # the character type
        try:
            return VariableLengthStringType(
                size, StringPadding(bits >> 4 & 0x0F), StringCharset(bits >> 8 & 0x0F)
            )
        except ValueError as exc:
            raise _error(f"variable-length string bits {bits:#x}") from exc
    try:
        name = DatatypeClass(raw_class).name
    except ValueError:
        raise _error(f"class {raw_class}") from None
    raise UnsupportedError(f"{_WHAT}: datatype class {name} is not supported")


_VL_STRING = 1
"""Variable-length kind 1 (strings); kind 0 (sequences) is not supported."""
_VL_STRING_BASE = FixedPointType(1, signed=False)
"""The character type libhdf5 writes after a variable-length string's header."""


def _decode_array(cur: ByteCursor, version: int, size: int, depth: int) -> Datatype:
    if version < 2:
        raise _error(f"array type of version {version}")
    rank = cur.u8()
    if not 0 < rank <= _MAX_ARRAY_RANK:
        raise _error(f"array of rank {rank}")
    if version == 2:
        cur.skip(3)  # reserved
    dims = tuple(cur.u32() for _ in range(rank))
    if version == 2:
        cur.skip(4 * rank)  # permutation indices, never used by libhdf5
    array = ArrayType(dims, _decode(cur, depth + 1))
    if array.size != size:
        raise _error(f"array of {dims} elements of {array.base.size} bytes, not {size}")
    return array


def _decode_compound(cur: ByteCursor, version: int, bits: int, size: int, depth: int) -> Datatype:
    members = []
    for _ in range(bits & 0xFFFF):
        name = _name(cur, version)
        wide = version < _COMPOSITE_VERSION
        offset = cur.u32() if wide else cur.uint(_offset_width(size))
        if version == 1:
            dimensionality = cur.u8()
            cur.skip(3 + 4 + 4 + 16)  # reserved, permutation, reserved, four dimension sizes
            if dimensionality:
                raise UnsupportedError(f"{_WHAT}: compound member {name!r} is an array")
        members.append(CompoundMember(name, offset, _decode(cur, depth + 1)))
    return CompoundType(size, tuple(members))
