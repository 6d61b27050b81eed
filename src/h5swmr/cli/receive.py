"""``h5swmr receive tcp://HOST:PORT``: write a DECTRIS Stream V2 detector stream into SWMR files.

Also the ``--publish`` side of ``h5swmr simulate`` (``add_publish_arguments``, ``publish``): a
Stream V2 source of synthetic frames, so a receiver can be tried without a detector.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from h5swmr.cli.command import Command, UsageError, parse_non_negative, parse_positive_seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("endpoint", metavar="tcp://HOST:PORT", help="the detector's stream")
    parser.add_argument(
        "--output",
        "-o",
        default="series_{series_id:06d}.h5",
        metavar="TEMPLATE",
        help="file name of a series; fields {series_id}, {series_unique_id}, and {part} with "
        "--frames-per-file, {receiver} with --receivers (default series_{series_id:06d}.h5)",
    )
    parser.add_argument(
        "--frames-per-file",
        type=parse_non_negative,
        default=None,
        metavar="N",
        help="a new part file every N frames, with a VDS master over all parts",
    )
    parser.add_argument(
        "--master",
        default=None,
        metavar="TEMPLATE",
        help="the master's name (default: --output with {part}/{receiver} as 'master')",
    )
    parser.add_argument(
        "--receivers",
        type=parse_non_negative,
        default=1,
        metavar="K",
        help="K receivers share the stream (round robin): each writes its own part files, and "
        "the master shows the series in image_id order (default 1)",
    )
    parser.add_argument(
        "--receiver-id",
        type=parse_non_negative,
        default=0,
        metavar="I",
        help="this receiver's number, 0..K-1",
    )
    parser.add_argument(
        "--compression",
        default="none",
        metavar="SPEC",
        help="filters for uncompressed payloads, as simulate's --compression (compressed "
        "payloads are stored as they come)",
    )
    parser.add_argument(
        "--reorder-frames",
        type=parse_non_negative,
        default=16,
        metavar="N",
        help="frames held to put out-of-order images back in order (default 16)",
    )
    parser.add_argument(
        "--reorder-timeout",
        type=parse_positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="how long a missing image is waited for before its row is a gap (default 1)",
    )
    parser.add_argument(
        "--series-timeout",
        type=parse_positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="close a series that sent no message for this long and no end (default 10)",
    )
    parser.add_argument(
        "--flush-every",
        type=parse_non_negative,
        default=100,
        metavar="N",
        help="flush once N frames wait (default 100; 1: every frame at once)",
    )
    parser.add_argument(
        "--flush-interval",
        type=parse_positive_seconds,
        default=0.1,
        metavar="SECONDS",
        help="flush once a frame waited this long (default 0.1)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="decode every compressed payload before storing it (slower)",
    )
    parser.add_argument(
        "--series", type=parse_non_negative, default=None, metavar="N", help="stop after N series"
    )
    parser.add_argument(
        "--idle-timeout",
        type=parse_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after this long without any message",
    )
    parser.add_argument(
        "--rcvhwm",
        type=parse_non_negative,
        default=1000,
        metavar="N",
        help="messages ZeroMQ may queue here before the sender waits (default 1000)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only the summary lines")


def run(args: argparse.Namespace) -> int:
    from h5swmr import parse_compression
    from h5swmr.receive import ReceiveOptions, Receiver, summary

    if not args.endpoint.startswith(("tcp://", "ipc://", "inproc://")):
        raise UsageError(f"{args.endpoint!r}: give an endpoint like tcp://HOST:31001")
    if args.flush_every < 1:
        raise UsageError("--flush-every must be at least 1")
    options = ReceiveOptions(
        output=args.output,
        master=args.master,
        frames_per_file=args.frames_per_file,
        receiver=args.receiver_id,
        receivers=args.receivers,
        pipeline=parse_compression(args.compression),
        reorder_frames=args.reorder_frames,
        reorder_timeout=args.reorder_timeout,
        series_timeout=args.series_timeout,
        flush_every=args.flush_every,
        flush_interval=args.flush_interval,
        verify=args.verify,
    )
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO,
        format="h5swmr receive: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    receiver = Receiver(
        args.endpoint,
        options,
        rcvhwm=args.rcvhwm,
        on_series=lambda report: print(summary(report), flush=True),
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        receiver.stop()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        receiver.run(max_series=args.series, idle_timeout=args.idle_timeout)
    finally:
        signal.signal(signal.SIGTERM, previous)
    stats = receiver.stats
    received = sum(r.counts.received for r in stats.series)
    written = sum(r.counts.written for r in stats.series)
    missing = sum(r.counts.missing for r in stats.series)
    print(
        f"receive: {len(stats.series)} series, {stats.messages} messages, {received} frames "
        f"received, {written} written, {missing} missing, {stats.malformed} malformed messages"
    )
    return 0


# -- simulate --publish ---------------------------------------------------------------------


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``h5swmr simulate`` takes for ``--publish``."""
    parser.add_argument(
        "--publish",
        default=None,
        metavar="tcp://HOST:PORT",
        help="instead of a file, publish a DECTRIS Stream V2 series on this endpoint (PUSH, "
        "bound here; port * picks a free one, printed on stderr)",
    )
    parser.add_argument(
        "--stream-compression",
        choices=("bslz4", "lz4", "none"),
        default="bslz4",
        help="payloads of --publish (default bslz4)",
    )
    parser.add_argument(
        "--channels",
        type=parse_non_negative,
        default=1,
        metavar="N",
        help="--publish: channels (default 1)",
    )
    parser.add_argument(
        "--series-id", type=parse_non_negative, default=1, help="--publish: the series' id"
    )
    parser.add_argument(
        "--wait-receivers",
        type=parse_non_negative,
        default=1,
        metavar="K",
        help="--publish: wait for K receivers before the first message (default 1)",
    )


def publish(args: argparse.Namespace, frame: Callable[[int], Any]) -> int:
    """Publish ``args.frames`` frames (``frame(i)``: simulate's synthetic detector) as a series."""
    from h5swmr.receive import Publisher

    publisher = Publisher(args.publish)
    try:
        print(f"simulate: publishing on {publisher.endpoint}", file=sys.stderr, flush=True)
        if args.wait_receivers and not publisher.wait_for_receivers(args.wait_receivers, 60.0):
            print("simulate: no receiver connected in 60 s", file=sys.stderr)
            return 1
        channels = [f"threshold_{i + 1}" for i in range(max(args.channels, 1))]
        sent = publisher.publish_series(
            args.series_id,
            frame,
            args.frames,
            channels=channels,
            compression=args.stream_compression,
            rate=args.rate,
        )
    finally:
        publisher.close()
    print(f"simulate: published series {args.series_id}: {sent} images -> {args.publish}")
    return 0


EPILOG = """\
examples:
  h5swmr receive tcp://detector:31001
      every series into series_000001.h5, series_000002.h5, ... (Ctrl-C to stop)
  h5swmr receive tcp://dcu:31001 -o 'run_{series_id}_{part:03d}.h5' --frames-per-file 1000
      a part file every 1000 frames; run_1_master.h5 shows the series as one dataset
  h5swmr receive tcp://dcu:31001 --receivers 2 --receiver-id 0 -o 's{series_id}_r{receiver}.h5'
      one of two receivers on one stream (start the other with --receiver-id 1)
  h5swmr simulate --publish 'tcp://127.0.0.1:*' --frames 100 &
      a detector to try it on

Each series prints one line: frames received, written, missing (placeholder rows, received=0),
late and duplicate images, malformed messages. The same counts are attributes of /entry.
"""

COMMAND = Command(
    name="receive",
    help="write a DECTRIS Stream V2 detector stream (ZeroMQ, CBOR) into SWMR files",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
