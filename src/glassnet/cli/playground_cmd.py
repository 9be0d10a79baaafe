"""``glassnet playground``: the local page where a network learns while you watch."""

from __future__ import annotations

import argparse

from glassnet.cli import common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "playground",
        help="open the playground page: build a network, watch it learn, step through backprop",
        description="Start the playground on this machine (127.0.0.1 only) and open it in "
        'the browser. Needs the playground extra: pip install "glassnet[playground]".',
    )
    p.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the address, open nothing")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from glassnet.playground import server

    if not 0 <= args.port <= 65535:
        raise common.UsageError(
            f"--port must be from 1 to 65535 (or 0 for a free one); got {args.port}"
        )
    try:
        server.serve(args.port, open_browser=not args.no_browser)
    except ImportError as error:
        raise common.UsageError(str(error)) from None
    return 0
