"""CBOR with the tags DECTRIS Stream V2 uses, both ways (decode for the receiver, encode for the
publisher and the tests).

- Typed arrays (RFC 8746 section 2, tags 64..87): the tag number spells the element type (bit 4
  float, bit 3 signed, bit 2 little-endian, bits 0..1 the size), so the dtype is computed from
  it rather than looked up; tag 76 is reserved and refused.
- Multi-dimensional arrays (RFC 8746 section 3.1): tag 40 (row-major) and 1040 (column-major),
  content ``[dims, elements]``.
- Tag 56500 (DECTRIS compression): ``[algorithm, modifier, bytes]``, equivalent to the byte
  string it decompresses to. It is kept compressed here (``Compressed``): the receiver stores a
  payload verbatim when the dataset's filter matches and decodes only when it must.
- Rationals are plain ``[numerator, denominator]`` arrays; ``messages`` reads them per field.

Decoding is bounded: ``cbor2`` reads one message already limited in size by the socket; every
failure (bad CBOR, a tag of the wrong content, nesting too deep) becomes ``MessageError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from h5swmr.errors import MessageError
from h5swmr.receive import scan

TYPED_ARRAY_FIRST: Final = 64
TYPED_ARRAY_LAST: Final = 87
TYPED_ARRAY_RESERVED: Final = 76
"""RFC 8746: the little-endian signed 8-bit tag, which would repeat tag 72, is reserved."""
TAG_CLAMPED_UINT8: Final = 68
TAG_ROW_MAJOR: Final = 40
TAG_COLUMN_MAJOR: Final = 1040
TAG_COMPRESSED: Final = 56500
TAG_SELF_DESCRIBED: Final = 55799
SELF_DESCRIBED: Final = b"\xd9\xd9\xf7"
"""RFC 8949 3.4.6: tag 55799 marks CBOR and means nothing else; DECTRIS detectors begin every
Stream V2 message with it (the captured messages of dectris/documentation's stream_v2 test data
do), so it is skipped before decoding: inside it cbor2 would make every map and array immutable."""
ALGORITHMS: Final = ("bslz4", "lz4")
"""The compression algorithms tag 56500 names (DECTRIS' cbor/dectris-compression-tag.md)."""


def typed_array_dtype(tag: int) -> np.dtype[Any]:
    """The element type RFC 8746 encodes in typed-array tag ``tag`` (64..87, not 76)."""
    if not TYPED_ARRAY_FIRST <= tag <= TYPED_ARRAY_LAST or tag == TYPED_ARRAY_RESERVED:
        raise MessageError(f"CBOR tag {tag} is not a typed array (RFC 8746: 64..87, not 76)")
    bits = tag - TYPED_ARRAY_FIRST
    is_float, is_signed, is_little = bits & 0b10000, bits & 0b1000, bits & 0b100
    size_code = bits & 0b11
    order = "<" if is_little else ">"
    if is_float:
        return np.dtype(f"{order}f{2 << size_code}")
    size = 1 << size_code
    kind = "i" if is_signed else "u"
    return np.dtype(f"{kind}1") if size == 1 else np.dtype(f"{order}{kind}{size}")


def typed_array_tag(dtype: np.dtype[Any]) -> int:
    """The RFC 8746 typed-array tag of ``dtype`` (the inverse of ``typed_array_dtype``)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "uif" or (dtype.kind == "f" and dtype.itemsize not in (2, 4, 8, 16)):
        raise MessageError(f"dtype {dtype} has no RFC 8746 typed-array tag")
    size_code = {1: 0, 2: 1, 4: 2, 8: 3, 16: 3}[dtype.itemsize]
    little = dtype.byteorder in "<|" if dtype.itemsize > 1 else False
    if dtype.byteorder == "=":
        little = np.little_endian
    if dtype.kind == "f":
        size_code = {2: 0, 4: 1, 8: 2, 16: 3}[dtype.itemsize]
        return TYPED_ARRAY_FIRST + 0b10000 + (0b100 if little else 0) + size_code
    signed = 0b1000 if dtype.kind == "i" else 0
    return TYPED_ARRAY_FIRST + signed + (0b100 if little else 0) + size_code


@dataclass(frozen=True, slots=True)
class Compressed:
    """Tag 56500's content: ``data`` compressed with ``algorithm`` ("bslz4": bitshuffle + LZ4
    with ``modifier`` the element size; "lz4": ``modifier`` unused, 0), in HDF5's framing."""

    algorithm: str
    modifier: int
    data: bytes | memoryview

    def declared_size(self) -> int:
        """The uncompressed size both framings write first: a big-endian 64-bit count."""
        if len(self.data) < 12:
            raise MessageError(
                f"{self.algorithm} payload of {len(self.data)} bytes: shorter than its header",
                field="data",
            )
        return int.from_bytes(self.data[:8], "big")

    def decompress(self) -> bytes:
        """The bytes this stands for, through DECTRIS' ``dectris-compression``."""
        try:
            from dectris.compression import decompress
        except ImportError as exc:
            raise MessageError(
                "decoding a tag 56500 payload needs dectris-compression "
                '(pip install "h5swmr[receive]")'
            ) from exc
        elem_size = self.modifier if self.algorithm == "bslz4" else 1
        try:
            return bytes(decompress(bytes(self.data), self.algorithm, elem_size=elem_size))
        except (RuntimeError, ValueError, TypeError) as exc:
            raise MessageError(f"{self.algorithm} payload does not decode: {exc}") from exc


@dataclass(frozen=True, slots=True)
class TypedArray:
    """An RFC 8746 typed array: elements of ``dtype`` in ``payload`` (bytes or ``Compressed``)."""

    dtype: np.dtype[Any]
    payload: bytes | memoryview | Compressed

    @property
    def nbytes(self) -> int:
        if isinstance(self.payload, Compressed):
            return self.payload.declared_size()
        return len(self.payload)

    def to_numpy(self) -> np.ndarray[Any, Any]:
        raw = self.payload.decompress() if isinstance(self.payload, Compressed) else self.payload
        if len(raw) % self.dtype.itemsize:
            raise MessageError(f"typed array of {len(raw)} bytes: not whole {self.dtype} elements")
        return np.frombuffer(raw, self.dtype)


@dataclass(frozen=True, slots=True)
class MultiDimArray:
    """RFC 8746 tag 40 (``column_major`` False) or 1040: ``dims`` and a typed array."""

    dims: tuple[int, ...]
    array: TypedArray
    column_major: bool = False

    def to_numpy(self) -> np.ndarray[Any, Any]:
        flat = self.array.to_numpy()
        if flat.size != int(np.prod(self.dims)):
            raise MessageError(f"array of {flat.size} elements for dims {self.dims}")
        return flat.reshape(self.dims, order="F" if self.column_major else "C")


def _typed(tag: int, value: object) -> TypedArray:
    dtype = typed_array_dtype(tag)
    if isinstance(value, Compressed):
        return TypedArray(dtype, value)
    if isinstance(value, bytes | memoryview):
        return TypedArray(dtype, value)
    raise MessageError(f"typed array tag {tag}: content is {type(value).__name__}, not bytes")


def _multi_dim(tag: int, value: object) -> MultiDimArray:
    if not (
        isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], list | tuple)
    ):
        raise MessageError(f"tag {tag}: content must be [dims, array]")
    dims, array = value
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise MessageError(f"tag {tag}: dims {dims!r} are not unsigned integers")
    if any(d < 0 or d > 2**32 for d in dims):
        raise MessageError(f"tag {tag}: dims {dims!r} out of range")
    if not isinstance(array, TypedArray):
        raise MessageError(f"tag {tag}: elements must be a typed array, not {type(array).__name__}")
    return MultiDimArray(tuple(dims), array, column_major=tag == TAG_COLUMN_MAJOR)


def _compressed(value: object) -> Compressed:
    if not (isinstance(value, list | tuple) and len(value) == 3):
        raise MessageError("tag 56500: content must be [algorithm, modifier, bytes]")
    algorithm, modifier, data = value
    if algorithm not in ALGORITHMS:
        raise MessageError(f"tag 56500: unknown algorithm {algorithm!r} (known: {ALGORITHMS})")
    if not isinstance(modifier, int) or isinstance(modifier, bool) or not 0 <= modifier <= 16:
        raise MessageError(f"tag 56500: modifier {modifier!r} is not a small unsigned integer")
    if not isinstance(data, bytes | memoryview):
        raise MessageError("tag 56500: the compressed data must be a byte string")
    return Compressed(algorithm, modifier, data)


def _tag_hook(first: Any, second: Any) -> object:
    # cbor2 >= 6 calls tag_hook(tag, immutable); cbor2 5 called tag_hook(decoder, tag)
    tag: Any = first if isinstance(first, _cbor_tag()) else second
    number, value = tag.tag, tag.value
    if number == TAG_COMPRESSED:
        return _compressed(value)
    if TYPED_ARRAY_FIRST <= number <= TYPED_ARRAY_LAST:
        return _typed(number, value)
    if number in (TAG_ROW_MAJOR, TAG_COLUMN_MAJOR):
        return _multi_dim(number, value)
    if number == TAG_SELF_DESCRIBED:
        return value
    return tag  # other tags (0, the date/time string, is decoded by cbor2 itself) pass through


def _cbor_tag() -> type:
    import cbor2

    return cbor2.CBORTag


def _scan_hook(number: int, value: object) -> object:
    if number == TAG_COMPRESSED:
        return _compressed(value)
    if TYPED_ARRAY_FIRST <= number <= TYPED_ARRAY_LAST:
        return _typed(number, value)
    if number in (TAG_ROW_MAJOR, TAG_COLUMN_MAJOR):
        return _multi_dim(number, value)
    if number == TAG_SELF_DESCRIBED:
        return value
    raise scan.UnhandledItemError(f"tag {number}")


def loads(message: bytes | memoryview) -> object:
    """One CBOR data item with the stream's tags decoded; ``MessageError`` for anything else.

    Byte strings are memoryview slices of ``message`` when ``scan`` reads it (the messages a
    detector sends), ``bytes`` when cbor2 does (what ``scan`` leaves to it)."""
    import cbor2

    view = memoryview(message)
    while view[:3].tobytes() == SELF_DESCRIBED:
        view = view[3:]
    message = view
    try:
        return scan.read(view, _scan_hook)
    except scan.UnhandledItemError:
        pass
    try:
        return cbor2.loads(bytes(message), tag_hook=_tag_hook)
    except MessageError:
        raise
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        if isinstance(exc.__cause__, MessageError):  # raised in the tag hook, wrapped by cbor2
            raise exc.__cause__ from None
        raise MessageError(f"not a CBOR message: {exc}") from exc


def _encode_default(encoder: Any, value: object) -> None:
    import cbor2

    if isinstance(value, Compressed):
        encoder.encode(cbor2.CBORTag(TAG_COMPRESSED, [value.algorithm, value.modifier, value.data]))
    elif isinstance(value, TypedArray):
        payload: object = value.payload
        encoder.encode(cbor2.CBORTag(typed_array_tag(value.dtype), payload))
    elif isinstance(value, MultiDimArray):
        tag = TAG_COLUMN_MAJOR if value.column_major else TAG_ROW_MAJOR
        encoder.encode(cbor2.CBORTag(tag, [list(value.dims), value.array]))
    elif isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        typed = TypedArray(array.dtype, array.tobytes())
        encoder.encode(MultiDimArray(tuple(array.shape), typed))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as Stream V2 CBOR")


def dumps(message: object) -> bytes:
    """``message`` as CBOR, numpy arrays as tag 40 typed arrays, ``Compressed`` as tag 56500."""
    import cbor2

    return bytes(cbor2.dumps(message, default=_encode_default))
