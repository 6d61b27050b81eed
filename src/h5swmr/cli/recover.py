"""``h5swmr recover FILE``: make a file a crashed writer left behind open in any HDF5 tool."""

from __future__ import annotations

import argparse

from h5swmr.cli.command import Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the HDF5 file a writer left open")
    parser.add_argument(
        "--force",
        action="store_true",
        help="recover even if a writer seems to be running (a process has the file open for "
        "writing, or the file changes while recover watches it for half a second)",
    )


def run(args: argparse.Namespace) -> int:
    from h5swmr import recover

    report = recover(args.file, force=args.force)
    print(report.summary())
    return 0


EPILOG = """\
examples:
  h5swmr recover scan.h5
      after a crash: "scan.h5: cleared consistency flags 0x05; end of file A -> B bytes",
      then one line per dataset, "  /entry/data/data: 812 frames kept, shape (812, 512, 512)"
  h5swmr recover scan.h5 && h5dump -H scan.h5

A file closed cleanly is left untouched ("closed cleanly, nothing to recover"). A file whose
writer is still running is refused: a process has the file open for writing, or (a writer on
another host, or of another user) the file changes while recover watches it for half a second;
--force recovers it anyway. Exit code 0 when recovered or clean; 1 if the file is missing, not
an HDF5 file, or its writer is still running.
"""

COMMAND = Command(
    name="recover",
    help=(
        "clear the SWMR flags a crashed writer left, keeping every flushed frame, so h5py, "
        "h5dump and every HDF5 tool open the file; a cleanly closed file is left as it is"
    ),
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
