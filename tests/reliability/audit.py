"""Watching real file-system calls with an audit hook (`sys.addaudithook`), not a stand-in.

An audit hook cannot be removed, so the one hook installed on import records only while a
`watch()` block is open (a module-level list is set), and does nothing otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The events that read or change the file system, and which of their arguments are paths.
_PATH_ARGS = {
    "open": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.symlink": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "shutil.copyfile": (0, 1),
    "shutil.rmtree": (0,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


@dataclass(frozen=True)
class Access:
    event: str
    path: str  # the real path, symlinks resolved
    writes: bool


_seen: list[Access] | None = None


def _writes(event: str, args: tuple[Any, ...]) -> bool:
    if event != "open":
        return True
    mode, flags = (args[1] if len(args) > 1 else None), (args[2] if len(args) > 2 else 0)
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    seen = _seen
    if seen is None or event not in _PATH_ARGS:
        return
    for index in _PATH_ARGS[event]:
        if index < len(args) and isinstance(args[index], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[index]))
            seen.append(Access(event, path, _writes(event, args)))


sys.addaudithook(_hook)


@contextmanager
def watch() -> Iterator[list[Access]]:
    """Record every file-system access of this process inside the block."""
    global _seen
    _seen = seen = []
    try:
        yield seen
    finally:
        _seen = None


def outside(accesses: list[Access], allowed: list[Path], within: Path) -> list[Access]:
    """The accesses to paths under `within` (the test's folder) but under none of `allowed`."""
    roots = [os.path.realpath(p) for p in allowed]
    top = os.path.realpath(within)
    return [
        a
        for a in accesses
        if (a.path == top or a.path.startswith(top + os.sep))
        and not any(a.path == r or a.path.startswith(r + os.sep) for r in roots)
    ]
