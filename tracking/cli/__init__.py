"""`python -m tracking` (or `tracking`): look after a workspace from a terminal or a script.

Subcommands: `db upgrade|current|history`, `experiments`, `runs`, `gc`, `export`. Every one
takes `--config` (the workspace's config.json or its folder; default: as
`Workspace.from_config()`), prints its result on stdout, and ends with exit code 0 when it
did what was asked, 1 when the database or storage failed it, 2 for bad input or a state it
refuses (one line on stderr, no traceback, passwords redacted).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from tracking.config import redact
from tracking.errors import (
    ConfigError,
    NotFoundError,
    SchemaError,
    TrackingError,
    ValidationError,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
PROG = "python -m tracking"


class CliExit(Exception):
    """Stop with this one-line message and exit code."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliExit(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    from tracking.cli import db, export, gc, listing

    parser = _Parser(
        prog=PROG,
        description="Look after a raysweep workspace: its database schema, its runs, "
        "leftovers of killed processes, and exports.",
        epilog="Exit codes: 0 done; 1 the database or storage failed; 2 bad input or a "
        "refused state (one line on stderr).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (db, listing, gc, export):
        module.add_commands(commands)
    return parser


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the workspace's config.json, or its folder (default: ./config.json, else the "
        "embedded ./workspace)",
    )


def _line(message: str) -> str:
    """`message` on one line, with any password in a URL replaced by '***'."""
    return redact(" ".join(message.split()))


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run one command; returns the exit code."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args, out) or EXIT_OK)
    except CliExit as stop:
        print(_line(str(stop)), file=sys.stderr)
        return stop.code
    except TrackingError as err:
        bad_input = isinstance(err, (ConfigError, ValidationError, NotFoundError, SchemaError))
        print(_line(f"{PROG}: {err}"), file=sys.stderr)
        return EXIT_BAD_INPUT if bad_input else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
