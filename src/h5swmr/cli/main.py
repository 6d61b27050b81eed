"""``h5swmr``: the console script. Parses arguments and dispatches to one module per subcommand.

Exit codes: 0 success, 1 an error h5swmr or the OS reported (one line on stderr; the traceback
only with ``--debug``), 2 a usage error, 130 interrupted, 141 stdout closed early (SIGPIPE).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import traceback

from h5swmr.cli import bench, ls, receive, recover, simulate, view, watch
from h5swmr.cli.command import Command, CommandError, UsageError, attach_dash_values
from h5swmr.errors import H5SwmrError

SIGPIPE_EXIT = 141
"""128 + SIGPIPE: what a shell reports for any Unix tool whose output pipe was closed."""

COMMANDS: tuple[Command, ...] = (
    simulate.COMMAND,
    watch.COMMAND,
    ls.COMMAND,
    recover.COMMAND,
    bench.COMMAND,
    receive.COMMAND,
    view.COMMAND,
)

EPILOG = """\
examples:
  h5swmr simulate scan.h5 --frames 1000 --rate 100 &   a detector writing at 100 Hz
  h5swmr watch scan.h5 --png latest.png                 follow it live, image of the latest frame
  h5swmr view scan.h5                                   watch it live in a browser
  h5swmr ls scan.h5                                     groups, datasets, links and attributes
  h5swmr recover scan.h5                                after a crash: keep every flushed frame
  h5swmr bench                                          write speed against h5py and pwrite
  h5swmr receive tcp://detector:31001                   a DECTRIS Stream V2 stream into files
  h5swmr COMMAND --help                                 options and examples of one command

exit codes:
  0    success (watch: also when it stops after --timeout without new frames)
  1    an error h5swmr or the OS reported: one line "h5swmr COMMAND: error: ..." on stderr,
       the traceback too with --debug
  2    usage error: bad or missing arguments ("usage: ..." and the error on stderr)
  130  interrupted (Ctrl-C)
  141  stdout was closed early (as in "h5swmr ls FILE | head"), like any Unix tool
"""


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each subcommand's parser, by name."""
    parser = argparse.ArgumentParser(
        prog="h5swmr",
        description="Stream frames into HDF5 files in SWMR mode, and read them back live.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    by_name: dict[str, argparse.ArgumentParser] = {}
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=textwrap.fill(command.help, width=92),
            epilog=command.epilog or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
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
        args = parser.parse_args(
            attach_dash_values(sys.argv[1:] if argv is None else argv, subparsers)
        )
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    command = next(c for c in COMMANDS if c.name == args.command)
    try:
        return command.run(args)
    except UsageError as exc:
        subparsers[command.name].print_usage(sys.stderr)
        print(f"h5swmr {command.name}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `h5swmr ls FILE | head`: the reader of stdout went away
        _silence_stdout()
        return SIGPIPE_EXIT
    except (H5SwmrError, OSError, CommandError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"h5swmr {command.name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"h5swmr {command.name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unforeseen failure: still one line and exit 1
        if args.debug:
            traceback.print_exc()
        print(
            f"h5swmr {command.name}: error: unexpected {type(exc).__name__}: {exc}"
            " (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
