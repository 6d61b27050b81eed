"""``h5swmr``: the console script. Parses arguments and dispatches to one module per subcommand.

Exit codes: 0 success, 1 an error h5swmr or the OS reported (one line on stderr; the traceback
only with ``--debug``), 2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from h5swmr.cli import recover, simulate
from h5swmr.cli.command import Command, UsageError
from h5swmr.errors import H5SwmrError

COMMANDS: tuple[Command, ...] = (simulate.COMMAND, recover.COMMAND)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each subcommand's parser, by name."""
    parser = argparse.ArgumentParser(
        prog="h5swmr", description="Stream frames into HDF5 files in SWMR mode."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    by_name: dict[str, argparse.ArgumentParser] = {}
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        command.add_arguments(sub)
        by_name[command.name] = sub
    return parser, by_name


def main(argv: list[str] | None = None) -> int:
    """Run ``h5swmr`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser, subparsers = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    command = next(c for c in COMMANDS if c.name == args.command)
    try:
        return command.run(args)
    except UsageError as exc:
        subparsers[command.name].print_usage(sys.stderr)
        print(f"h5swmr {command.name}: error: {exc}", file=sys.stderr)
        return 2
    except (H5SwmrError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"h5swmr {command.name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"h5swmr {command.name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
