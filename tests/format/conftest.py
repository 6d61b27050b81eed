"""Shared checks for format structures: round trip, size, truncation and garbage."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from typing import Any

from h5swmr.errors import FormatError, H5SwmrError

"""Seconds the whole corruption battery may take for one structure."""


def check_structure(obj: Any, *, garbage_rounds: int = 200, seed: int = 0) -> bytes:
    """decode(encode(x)) == x, size law, every truncation and random garbage raise h5swmr errors."""
    cls = type(obj)
    encoded: bytes = obj.encode()
    assert cls.decode(encoded) == obj
    assert cls.decode(bytearray(encoded)) == obj
    assert cls.decode(memoryview(encoded)) == obj
    size = getattr(obj, "size", None)
    if isinstance(size, int) and "size" not in {f.name for f in dataclasses.fields(obj)}:
        assert len(encoded) == size  # a size property predicts the encoding's length
    for cut in range(len(encoded)):
        try:
            cls.decode(encoded[:cut])
        except FormatError:
            pass
        else:
            raise AssertionError(f"{cls.__name__}: truncation to {cut} bytes decoded")
    rng = random.Random(seed)
    for _ in range(garbage_rounds):
        n = rng.randrange(0, 2 * len(encoded) + 8)
        junk = bytes(rng.randrange(256) for _ in range(n))
        mutated = bytearray(encoded)
        if mutated:
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        for candidate in (junk, bytes(mutated), encoded[:1] + junk):
            with contextlib.suppress(H5SwmrError):
                cls.decode(candidate)
    return encoded
