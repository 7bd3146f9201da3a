"""`python -m tracking gc [--yes]`: what killed processes left in the workspace."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any, TextIO

from tracking.cli import EXIT_OK, add_config
from tracking.workspace import Workspace


def add_commands(commands: Any) -> None:
    gc = commands.add_parser(
        "gc",
        help="list, and with --yes remove, what killed processes left behind",
        description="List what killed processes left in the workspace: unfinished upload "
        "parts (.part files, S3 multipart uploads), files under the storage's runs/ that no "
        "record names, and runs whose process stopped beating. Only what was last written "
        "before the grace period counts (a live upload may still own it); nothing outside "
        "runs/ is ever deleted (Ray Tune's folders live there). With --yes, remove them: "
        "each is checked again just before, and one recorded or written meanwhile is kept.",
    )
    add_config(gc)
    gc.add_argument("--yes", action="store_true", help="remove what is listed")
    gc.add_argument(
        "--older-than",
        type=_hours,
        default=timedelta(hours=24),
        metavar="HOURS",
        help="the grace period in hours (default: 24)",
    )
    gc.set_defaults(run=_gc)


def _hours(text: str) -> timedelta:
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not 0 <= hours < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours (0 or more)")
    return timedelta(hours=hours)


def _gc(args: argparse.Namespace, out: TextIO) -> int:
    from tracking.artifacts.base import Leftover, ObjectInfo
    from tracking.gc import collect, find_garbage
    from tracking.records import LostRun

    ws = Workspace.from_config(args.config)
    try:
        for run_id in ws.lost_runs:  # opening the workspace failed these
            print(f"lost run {run_id}: failed as lost when the workspace opened", file=out)
        garbage = find_garbage(ws, older_than=args.older_than)
        rows: list[tuple[str, str, int | None, Leftover | ObjectInfo | LostRun]] = [
            *(
                ("part" if g.kind == "part" else "upload", g.uri, g.size, g)
                for g in garbage.leftovers
            ),
            *(("unrecorded", o.uri, o.size, o) for o in garbage.unreferenced),
            *(
                ("lost run", f"{r.experiment} #{r.number} ({r.run_id})", None, r)
                for r in garbage.lost_runs
            ),
        ]
        for kind, what, size, item in rows:
            shown = "" if size is None else f"{_size(size):>9}  "
            print(f"{kind:<10}  {shown}{_age(garbage.age(item)):>6} old  {what}", file=out)
        if not garbage:
            print("nothing to collect", file=out)
            return EXIT_OK
        total = f"{len(rows)} item(s), {_size(garbage.size)}"
        if not args.yes:
            print(f"{total}: run again with --yes to remove them", file=out)
            return EXIT_OK
        result = collect(ws, garbage)
    finally:
        ws.close()
    for kept in result.kept:
        print(f"kept {kept.what}: {kept.reason}", file=out)
    print(
        f"removed {len(result.removed)} part(s) and upload(s), deleted {len(result.deleted)} "
        f"file(s), failed {len(result.failed_runs)} lost run(s); freed {_size(result.freed)}",
        file=out,
    )
    return EXIT_OK


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _age(age: timedelta) -> str:
    seconds = age.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m"
