"""A run's `./outputs` folder, as Azure ML v1 keeps it: what the run writes there is
uploaded as `outputs/<path>` when it ends.

Only files that appeared or changed while the run was open are uploaded: a loop of runs in
one folder (the tutorial's) would otherwise upload every earlier run's models again with
each new run. A file the run already uploaded itself, unchanged since, is recorded under
its `outputs/` name too without a second copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

Signature = tuple[int, int, int]  # size, mtime in ns, inode


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _walk(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files under `folder` (symlinks are not followed), with their stat."""
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path), entry.stat(follow_symlinks=False)


@dataclass
class OutputsFolder:
    """Watches one folder from a run's start to its end."""

    folder: Path
    before: dict[Path, Signature] = field(default_factory=dict)

    @classmethod
    def start(cls, folder: str | os.PathLike[str]) -> OutputsFolder:
        """Create the folder (as v1 does) and note what is in it now."""
        path = Path(folder).absolute()
        path.mkdir(parents=True, exist_ok=True)
        return cls(path, {p: _signature(s) for p, s in _walk(path)})

    def changed(self) -> list[tuple[str, Path, Signature]]:
        """(name under outputs/, path, signature) of each file new or changed since start."""
        found = []
        for path, stat in sorted(_walk(self.folder)):
            signature = _signature(stat)
            if self.before.get(path) != signature:
                name = "outputs/" + path.relative_to(self.folder).as_posix()
                found.append((name, path, signature))
        return found


def signature_of(path: Path) -> Signature | None:
    try:
        return _signature(path.stat())
    except OSError:
        return None
