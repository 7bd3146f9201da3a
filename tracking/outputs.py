"""A run's `./outputs` folder, as Azure ML v1 keeps it: what the run writes there is
uploaded as `outputs/<path>` when it ends.

Only files that appeared or changed while the run was open are uploaded: a loop of runs in
one folder (the tutorial's) would otherwise upload every earlier run's models again with
each new run. A file the run already uploaded itself, unchanged since, is recorded under
its `outputs/` name too without a second copy.

A loop of runs over one folder would scan it twice per run; the state a run's end found is
kept (per process and folder) as the next run's starting state, so each run scans once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

Signature = tuple[int, int, int]  # size, mtime in ns, inode
State = dict[str, Signature]  # path -> signature

_last_seen: dict[str, State] = {}  # folder -> what the latest scan of it in this process saw
_lock = threading.Lock()


def _scan(folder: str) -> State:
    """Every regular file under `folder` (symlinks are not followed), with its signature."""
    found: State = {}
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                found[entry.path] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return found


@dataclass
class OutputsFolder:
    """Watches one folder from a run's start to its end."""

    folder: str
    before: State = field(default_factory=dict)

    @classmethod
    def start(cls, folder: str | os.PathLike[str]) -> OutputsFolder:
        """Create the folder (as v1 does) and note what is in it now."""
        path = os.path.abspath(folder)
        os.makedirs(path, exist_ok=True)
        with _lock:
            known = _last_seen.get(path)
        return cls(path, dict(known) if known is not None else _scan(path))

    def changed(self) -> list[tuple[str, Path, Signature]]:
        """(name under outputs/, path, signature) of each file new or changed since start."""
        now = _scan(self.folder)
        with _lock:
            _last_seen[self.folder] = now
        prefix = len(self.folder) + 1
        return [
            ("outputs/" + path[prefix:].replace(os.sep, "/"), Path(path), signature)
            for path, signature in sorted(now.items())
            if self.before.get(path) != signature
        ]


def signature_of(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)
