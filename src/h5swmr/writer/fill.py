"""Fill values a user sets (``set_dataset_fill_value``): checked against the dtype, and put in a
dataset's fill value message, which readers use for chunks never written (h5py's ``fillvalue``).
"""

from __future__ import annotations

import warnings

import numpy as np

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.fill_value import FillTime, FillValueMessage
from h5swmr.format.object_header import RawMessage


def fill_element(value: object, dtype: np.dtype, where: str) -> np.ndarray:
    """``value`` as one element of ``dtype`` (0-d, little-endian), or InvalidArgumentError if
    it is not a number or does not fit exactly (300 as uint8, 0.5 as an integer). For bytes
    ``S<n>``: bytes or str (UTF-8) of at most n bytes, NUL-padded."""
    if dtype.fields is not None:
        return _fill_record(value, dtype, where)
    if dtype.kind == "S":
        return _string_fill(value, dtype, where)
    if isinstance(value, str | bytes) or np.ndim(value) != 0:  # type: ignore[arg-type]
        raise InvalidArgumentError(f"{where}: a fill value is one number, not {value!r}")
    try:
        given = np.asarray(value)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ComplexWarning (np.exceptions needs numpy 1.25)
            fill = given.astype(dtype)
        exact = given.dtype.kind in "biufc" and (
            bool(fill == given) or (bool(np.isnan(given)) and bool(np.isnan(fill)))
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(f"{where}: {value!r} is not a {dtype.str} value") from exc
    if not exact:
        raise InvalidArgumentError(f"{where}: {value!r} does not fit {dtype.str} exactly")
    return fill


def _fill_record(value: object, dtype: np.dtype, where: str) -> np.ndarray:
    """One record: a tuple of field values, or a record of ``dtype`` in any byte order (never
    one of other fields, whose values would land in the wrong members); padding zeroed."""
    record = np.zeros((), dtype)
    given = value if isinstance(value, tuple) else np.asarray(value)
    if isinstance(given, np.ndarray) and (
        given.shape != () or given.dtype.newbyteorder("=") != dtype.newbyteorder("=")
    ):
        raise InvalidArgumentError(
            f"{where}: a fill value of {dtype} is one record of it or a tuple, not {value!r}"
        )
    try:
        record[()] = given
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(
            f"{where}: {value!r} is not a record of {dtype} ({exc})"
        ) from exc
    return record


def _string_fill(value: object, dtype: np.dtype, where: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "SU":
        value = value.item()
    if not isinstance(value, str | bytes):
        raise InvalidArgumentError(
            f"{where}: the fill value of an {dtype.str} dataset is bytes or str, not {value!r}"
        )
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(raw.rstrip(b"\x00")) > dtype.itemsize:
        raise InvalidArgumentError(
            f"{where}: a fill value of {len(raw)} bytes does not fit {dtype.str}"
        )
    return np.array(raw, dtype)


def with_fill_value(messages: tuple[RawMessage, ...], value: bytes) -> tuple[RawMessage, ...]:
    """``messages`` with their fill value message storing ``value`` (fill time "if set", as
    libhdf5 writes a set value; the allocation time is kept)."""
    replaced = []
    for raw in messages:
        message = raw
        if raw.type == MessageType.FILL_VALUE:
            old = FillValueMessage.decode(raw.body)
            new = FillValueMessage(old.alloc_time, FillTime.IFSET, value)
            message = RawMessage(raw.type, new.encode(), raw.flags)
        replaced.append(message)
    return tuple(replaced)
