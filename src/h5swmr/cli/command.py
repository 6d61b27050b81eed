"""What a subcommand module provides to ``main``: its name, help, arguments and entry point."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass


class UsageError(Exception):
    """Arguments that parse but do not fit together; ``main`` exits with code 2."""


class CommandError(Exception):
    """A failure a subcommand reports itself (not one h5swmr or the OS raised); ``main`` prints
    it as one line and exits with code 1."""


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand. ``run`` returns the exit code; it may raise ``UsageError``.

    ``epilog`` is shown at the end of ``h5swmr NAME --help``: examples, kept as written.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    epilog: str = ""


def parse_amount(text: str, unit: str, zero: str) -> float:
    """A finite number of ``unit`` >= 0 from an argument; ``zero`` says what 0 means."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be {zero} or more")
    return value


def parse_count(text: str, *, minimum: int) -> int:
    """A whole number >= ``minimum`` (frames, repetitions, ids)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least {minimum}")
    return value


def parse_positive(text: str) -> int:
    """A whole number >= 1 (argparse's ``type``)."""
    return parse_count(text, minimum=1)


def parse_non_negative(text: str) -> int:
    """A whole number >= 0 (argparse's ``type``)."""
    return parse_count(text, minimum=0)


def parse_positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (a period or a time budget)."""
    value = parse_amount(text, "seconds", "0 seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 seconds")
    return value


def attach_dash_values(argv: list[str], parsers: dict[str, argparse.ArgumentParser]) -> list[str]:
    """``--shape -3x10`` becomes ``--shape=-3x10``, so the option's own check says what is wrong.

    argparse takes a word starting with ``-`` for an option unless it looks like a negative
    number, and answers ``expected one argument``, which names nothing the user typed wrong.
    A word after an option that takes one value is attached to it unless it is an option of
    that command itself.
    """
    command = next((word for word in argv if word in parsers), None)
    if command is None:
        return argv
    actions = parsers[command]._actions
    known = {option for action in actions for option in action.option_strings}
    takes_value = {
        option for action in actions if action.nargs is None for option in action.option_strings
    }
    out: list[str] = []
    words = iter(argv)
    for word in words:
        if word in takes_value:
            value = next(words, None)
            if value is not None and value.startswith("-") and value not in known | {"--"}:
                out.append(f"{word}={value}")
                continue
            out.append(word)
            if value is not None:
                out.append(value)
            continue
        out.append(word)
    return out
