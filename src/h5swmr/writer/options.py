"""The writer's options, checked once where the user gives them."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TypedDict

from h5swmr.errors import InvalidArgumentError
from h5swmr.storage.commit import Durability


class WriterOptions(TypedDict, total=False):
    """Options of ``create`` and ``open_append`` (see ``SwmrFileWriter.create``)."""

    durability: Durability | str
    workers: int | None
    flush_every: int | None
    flush_interval: float | None
    watchdog: float | None
    alignment_threshold: int
    alignment_interval: int
    direct_io: bool


class CreateOptions(WriterOptions, total=False):
    """Options only a new file takes."""

    nexus: bool
    temp_suffix: str
    create_dirs: bool
    overwrite: bool


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class Settings:
    durability: Durability = Durability.NONE
    workers: int = 1
    flush_every: int | None = None
    flush_interval: float | None = None
    watchdog: float | None = None
    alignment_threshold: int = 1
    alignment_interval: int = 1
    nexus: bool = False
    temp_suffix: str = ""
    create_dirs: bool = False
    overwrite: bool = False
    direct_io: bool = False

    @classmethod
    def parse(cls, options: CreateOptions) -> Settings:
        unknown = set(options) - set(CreateOptions.__annotations__)
        if unknown:
            raise InvalidArgumentError(f"unknown writer options {sorted(unknown)}")
        raw_durability = options.get("durability", Durability.NONE)
        try:
            durability = Durability(raw_durability)
        except ValueError as exc:
            choices = ", ".join(d.value for d in Durability)
            raise InvalidArgumentError(
                f"durability {raw_durability!r}: use one of {choices}"
            ) from exc
        workers = options.get("workers")
        workers = _default_workers() if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise InvalidArgumentError(f"workers must be an integer >= 0, not {workers!r}")
        flush_every = options.get("flush_every")
        if flush_every is not None:
            flush_every = _count(options, "flush_every", "None or an integer >= 1")
        flush_interval = _seconds(options, "flush_interval")
        watchdog = _seconds(options, "watchdog")
        align_threshold = _count(options, "alignment_threshold", "an integer >= 1")
        align_interval = _count(options, "alignment_interval", "an integer >= 1")
        direct_io = options.get("direct_io", False)
        if not isinstance(direct_io, bool):
            raise InvalidArgumentError(f"direct_io must be True or False, not {direct_io!r}")
        temp_suffix = options.get("temp_suffix", "")
        if not isinstance(temp_suffix, str) or "/" in temp_suffix or "\x00" in temp_suffix:
            raise InvalidArgumentError(f"temp_suffix {temp_suffix!r}: a file name ending")
        return cls(
            durability,
            workers,
            flush_every,
            flush_interval,
            watchdog,
            align_threshold,
            align_interval,
            bool(options.get("nexus", False)),
            temp_suffix,
            bool(options.get("create_dirs", False)),
            bool(options.get("overwrite", False)),
            direct_io,
        )


def _seconds(options: CreateOptions, name: str) -> float | None:
    value: object = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidArgumentError(f"{name} must be None or a number of seconds > 0, not {value!r}")
    return float(value)


def _count(options: CreateOptions, name: str, what: str) -> int:
    value: object = options.get(name, 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be {what}, not {value!r}")
    return value
