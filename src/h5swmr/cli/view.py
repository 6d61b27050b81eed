"""``h5swmr view FILE [FILE ...]``: watch frames arrive in a browser.

Starts a read-only web server (the ``view`` extra) and prints the page's URL; it runs until
Ctrl-C. On 127.0.0.1 (the default) only this machine sees the page; ``--host 0.0.0.0`` lets other
machines in, and then the URL carries a token, without which the server answers 403.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from h5swmr.cli.command import Command, UsageError

DEFAULT_HOST = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="FILE", nargs="+", help="HDF5 files, growing or not")
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every "
        "network, with a token in the URL)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default 0: any free port)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        metavar="HZ",
        help="updates per second sent to each page at most (default 10)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=10,
        metavar="N",
        help="lower the server's priority by N (default 10; 0: keep it), so that a writer on "
        "this machine gets the CPU first",
    )
    parser.add_argument(
        "--idle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the server only on CPU time nothing else wants (Linux's SCHED_IDLE class; "
        "default: on). --no-idle keeps the normal class, lowered by --nice only",
    )
    parser.add_argument(
        "--token",
        help="the token the URL must carry (default: none on 127.0.0.1, a random one otherwise)",
    )


def run(args: argparse.Namespace) -> int:
    from h5swmr.view import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: must be 0 to 65535")
    if not args.rate > 0:
        raise UsageError(f"--rate {args.rate}: must be more than 0")
    if not 0 <= args.nice <= 19:
        raise UsageError(f"--nice {args.nice}: must be 0 to 19")
    for path in args.files:
        if not Path(path).exists():
            print(f"view: {path} does not exist yet; it is shown once a writer creates it")

    def ready(url: str) -> None:
        print(f"view: serving {len(args.files)} file(s) read-only at {url}", flush=True)
        print("view: open that URL in a browser; Ctrl-C stops the server", flush=True)

    serve(
        args.files,
        host=args.host,
        port=args.port,
        token=args.token,
        rate=args.rate,
        ready=ready,
        nice=args.nice,
        idle=args.idle,
    )
    return 0


EPILOG = """\
examples:
  h5swmr view scan.h5
      prints http://127.0.0.1:PORT/ : open it; the latest frame, live, and the file's tree
  h5swmr view run_*.h5 --port 8050
      several files (pick one in the page's file list), on a fixed port
  h5swmr view scan.h5 --host 0.0.0.0
      reachable from other machines; the printed URL carries the token they need

The server only reads. It reads with h5swmr's own reader (no libhdf5) and pushes at most
--rate updates a second per page, each frame binned to the size it has on screen.
"""

COMMAND = Command(
    name="view",
    help="watch frames arrive in a browser: live tree, latest frame, history, rates, ROI",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
