"""The ``glassnet`` command: ``glassnet train | evaluate | predict | export | compile |
playground | explain | gradcheck``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from glassnet.cli import (
    common,
    compile_cmd,
    evaluate_cmd,
    export_cmd,
    inspect_cmds,
    playground_cmd,
    predict_cmd,
    train_cmd,
)


def build_parser() -> common.Parser:
    """The argument parser with every subcommand."""
    from glassnet import __version__

    parser = common.Parser(
        prog="glassnet",
        description="glassnet: a see-through deep-learning library. Train, evaluate and use "
        "small networks from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=common.Parser)
    for module in (train_cmd, evaluate_cmd, predict_cmd, export_cmd, compile_cmd, playground_cmd):
        module.add_parser(sub)
    inspect_cmds.add_parsers(sub)
    parser.subcommands = sub.choices
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad arguments, 1 for a failure
    while working, such as a file that cannot be written)."""
    parser = build_parser()
    # parse_known_args, so that an unknown flag is reported by its subcommand's parser
    # ("glassnet train: error: ...", with the nearest flag) rather than by the top level
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.subcommands.get(args.command, parser).unrecognized(extras)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except common.UsageError as error:
        print(f"glassnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head or similar, which stopped reading
        sys.stderr.close()
        return 0
    except OSError as error:  # a file that cannot be read or written: the path and why
        print(f"glassnet {args.command}: error: {common.describe_os_error(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"glassnet {args.command}: interrupted", file=sys.stderr)
        return 130
