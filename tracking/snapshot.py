"""The code snapshot of a run: files and folders as one deterministic zip, and back.

As Azure ML v1's `run.take_snapshot` / `run.restore_snapshot`: a `.amlignore` in the
snapshot's root, else its `.gitignore`, excludes files (gitignore syntax; nested ignore files
are not read), after built-in defaults it may negate; v1's limits (300 MB, 2000 files) hold.
The same tree gives the same zip bytes. Restoring checks every member before writing any.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tracking.artifacts.base import temporary_beside
from tracking.errors import NotFoundError, ValidationError
from tracking.names import MAX_FILE_NAME

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 300 * MB
DEFAULT_MAX_FILES = 2000
IGNORE_FILES = (".amlignore", ".gitignore")  # only the first one present in the root is read
# Applied before the ignore file, which may negate them (`!/outputs/`). `/outputs/` is the
# run's outputs folder, uploaded as outputs. Folders holding a `pyvenv.cfg` are always left out.
DEFAULT_EXCLUDES = (
    *(".git/", "__pycache__/", "*.pyc", ".ipynb_checkpoints/", "node_modules/", "/outputs/"),
    *(".mypy_cache/", ".pytest_cache/", ".ruff_cache/"),
)
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no mtime leaks in
_DRIVE = re.compile(r"[A-Za-z]:")
_CHUNK = 1 << 20

PathArg = str | os.PathLike[str]


@dataclass(frozen=True)
class SnapshotZip:
    """A snapshot written to a temporary zip file; the caller deletes `path`.

    `sha256` is of the zip's bytes (equal trees, equal hashes); `total_bytes` is uncompressed;
    `members` are sorted '/'-separated names; `skipped` says what was left out and why
    (symlinks leading out of the root, symlinked folders, special files).
    """

    path: Path
    sha256: str
    file_count: int
    total_bytes: int
    members: tuple[str, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


@dataclass(frozen=True)
class _Entry:
    name: str
    source: Path
    size: int
    mode: int


def _parse_ignore(lines: Sequence[str]) -> list[_Rule]:
    """gitignore rules: `#`, `!`, `dir/`, `/anchored` (or any inner '/'), `*`, `?`, `[]`, `**`."""
    rules = []
    for raw in lines:
        line = raw.rstrip()
        negate = line.startswith("!")
        dir_only = line.endswith("/")
        pattern = (line[1:] if negate else line).rstrip("/")
        if pattern and not line.startswith("#"):
            prefix = "" if "/" in pattern else "(?:.*/)?"
            try:
                regex = re.compile(prefix + _translate(pattern.lstrip("/")), re.DOTALL)
            except re.error:  # a malformed class: taken literally rather than failing the run
                regex = re.compile(prefix + re.escape(pattern.lstrip("/")), re.DOTALL)
            rules.append(_Rule(regex, negate, dir_only))
    return rules


def _translate(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1 : end]
            negated = body[0] in "!^"
            body = re.sub(r"([\\\[\]&~|^])", r"\\\1", body[1:] if negated else body)
            out.append("[" + ("^" if negated else "") + body + "]")
            i = end + 1
        else:
            i += pattern[i] == "\\" and i + 1 < len(pattern)  # `\#`, `\!`: the character
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


_DEFAULT_RULES = _parse_ignore(DEFAULT_EXCLUDES)


def _member_problem(name: str) -> str | None:
    """Why `name` cannot be a member (a relative '/'-separated path), or None if it can."""
    if not name or len(name) > MAX_FILE_NAME:
        return f"is empty or longer than {MAX_FILE_NAME} characters"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute or drive path"
    if any(segment in ("", ".", "..") for segment in name.split("/")):
        return "has an empty, '.' or '..' segment"
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in name):
        return "contains control characters or bytes that are not UTF-8"
    return None


class _Collector:
    """Walks the listed paths under one root, measuring what the zip will hold."""

    def __init__(self, root: Path) -> None:
        self.root, self.real_root = root, root.resolve()
        ignore_files = [root / name for name in IGNORE_FILES if (root / name).is_file()]
        text = ignore_files[0].read_text("utf-8", errors="replace") if ignore_files else ""
        self.rules = _DEFAULT_RULES + _parse_ignore(text.splitlines())
        self.entries: dict[str, _Entry] = {}
        self.skipped: list[str] = []

    def add(self, path: Path, explicit: bool) -> None:
        """Take `path` (a listed one even if excluded), walking folders but no symlinked one."""
        rel = path.relative_to(self.root).as_posix()
        if path.is_symlink() and not path.resolve().is_relative_to(self.real_root):
            self.skipped.append(f"{rel}: a symlink to outside {self.root}")
        elif path.is_symlink() and path.is_dir() and not explicit:
            self.skipped.append(f"{rel}: a symlinked folder, not followed")
        elif path.is_dir():
            if explicit or not (self._ignored(rel, True) or (path / "pyvenv.cfg").is_file()):
                for child in sorted(os.listdir(path)):
                    self.add(path / child, explicit=False)
        elif not path.is_file():
            self.skipped.append(f"{rel}: not a regular file")
        elif explicit or not self._ignored(rel, False):
            if why := _member_problem(rel):
                raise ValidationError(
                    f"cannot snapshot {path}: its name {rel!r} {why}; rename it or exclude "
                    f"it in {self.root / IGNORE_FILES[0]}"
                )
            info = path.stat()
            self.entries[rel] = _Entry(rel, path, info.st_size, info.st_mode)

    def _ignored(self, rel: str, is_dir: bool) -> bool:
        ignored = False
        for rule in self.rules:  # the last matching rule decides, as in git
            if (is_dir or not rule.dir_only) and rule.regex.fullmatch(rel):
                ignored = not rule.negate
        return ignored


def _root_of(paths: list[Path], base: PathArg | None) -> Path:
    for path in paths:
        if not os.path.lexists(path):
            raise NotFoundError(f"cannot snapshot {str(path)!r}: no such file or folder")
    if base is not None:
        root = Path(os.path.abspath(base))
    else:
        root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in paths]))
    for path in paths:
        if not path.is_relative_to(root):
            raise ValidationError(f"cannot snapshot {path}: it is not inside the base {root}")
    return root


def _check_limits(root: Path, entries: list[_Entry], max_bytes: int, max_files: int) -> None:
    total = sum(entry.size for entry in entries)
    if total > max_bytes:
        what = f"is {total / MB:.1f} MB, over the limit of {max_bytes / MB:.1f} MB"
    elif len(entries) > max_files:
        what = f"has {len(entries)} files, over the limit of {max_files} files"
    else:
        return
    tops: dict[str, int] = {}  # the biggest top-level file or folder, by what is over
    for entry in entries:
        top = entry.name.split("/")[0] + ("/" if "/" in entry.name else "")
        tops[top] = tops.get(top, 0) + (entry.size if total > max_bytes else 1)
    raise ValidationError(
        f"the snapshot of {root} {what} (largest: {max(tops, key=tops.__getitem__)!r}); "
        f"exclude data, models and outputs with a {IGNORE_FILES[0]} file in {root} "
        "(gitignore syntax, e.g. 'data/')"
    )


def build_snapshot(
    paths: PathArg | Sequence[PathArg],
    *,
    base: PathArg | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
) -> SnapshotZip:
    """Zip a folder, a file or a list of them into a temporary file, deterministically.

    Args:
        paths: a folder (names relative to it), a file, or a list (names relative to
            `base`, else to their common parent). Listed paths are taken even if excluded.
        base: the root for names and for the `.amlignore`/`.gitignore` that is read.
        max_bytes, max_files: the limits, measured before anything is written.
    Returns:
        The written zip and what it holds.
    Raises:
        NotFoundError: a listed path does not exist.
        ValidationError: over a limit, a path outside `base`, or a file name no zip can hold.
    """
    listed = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not listed:
        raise ValidationError("a snapshot needs a file, a folder or a list of them: got []")
    absolute = [Path(os.path.abspath(path)) for path in listed]
    collector = _Collector(_root_of(absolute, base))
    for path in absolute:
        collector.add(path, explicit=True)
    entries = sorted(collector.entries.values(), key=lambda entry: entry.name)
    _check_limits(collector.root, entries, max_bytes, max_files)
    fd, name = tempfile.mkstemp(prefix="snapshot-", suffix=".zip")
    try:
        with os.fdopen(fd, "w+b") as raw:
            total = _write_zip(raw, entries, max_bytes)
            raw.seek(0)
            digest = hashlib.sha256()
            while chunk := raw.read(_CHUNK):
                digest.update(chunk)
    except BaseException:
        os.unlink(name)
        raise
    members = tuple(entry.name for entry in entries)
    skipped = tuple(collector.skipped)
    return SnapshotZip(Path(name), digest.hexdigest(), len(entries), total, members, skipped)


def _write_zip(raw: IO[bytes], entries: list[_Entry], max_bytes: int) -> int:
    total = 0
    with zipfile.ZipFile(raw, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=_EPOCH)
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 3  # 3: Unix modes
            info.external_attr = (stat.S_IFREG | _mode(entry.mode)) << 16
            info.file_size = entry.size  # lets zipfile choose zip64 up front
            with entry.source.open("rb") as src, archive.open(info, "w") as dst:
                while chunk := src.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:  # a file grew after it was measured
                        raise ValidationError(
                            f"the snapshot grew over the limit of {max_bytes / MB:.1f} MB "
                            f"while {entry.source} was read"
                        )
                    dst.write(chunk)
    return total


def _mode(mode: int) -> int:
    """Only the executable bit is kept, so a tree zips alike under any umask."""
    return 0o755 if mode & 0o111 else 0o644


def restore_snapshot(
    zip_path: PathArg,
    target: PathArg,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
) -> list[Path]:
    """Extract a snapshot byte for byte into `target` (created if missing), as v1 does:
    files of the same names are replaced (by rename, never written through), others kept.

    Args:
        zip_path: the snapshot's zip.
        target: the folder to restore into.
        max_bytes, max_files: the most the zip may declare, to refuse a zip bomb.
    Returns:
        The files written, in the zip's order.
    Raises:
        NotFoundError: `zip_path` does not exist.
        ValidationError: not a zip, or a member that is unsafe (absolute, `..`, backslash,
            drive, symlink, outside `target`) or over a limit; then nothing is written.
    """
    target = Path(os.path.abspath(target))
    if not os.path.isfile(zip_path):
        raise NotFoundError(f"no snapshot zip at {str(zip_path)!r}")
    try:
        with zipfile.ZipFile(zip_path) as archive:
            files = [info for info in archive.infolist() if not info.is_dir()]
            _check_members(str(zip_path), files, target, max_bytes, max_files)
            target.mkdir(parents=True, exist_ok=True)
            return [_extract(archive, info, target) for info in files]
    except zipfile.BadZipFile as error:
        raise ValidationError(f"{str(zip_path)!r} is not a valid snapshot zip: {error}") from None


def _check_members(
    shown: str, files: list[zipfile.ZipInfo], target: Path, max_bytes: int, max_files: int
) -> None:
    def refuse(why: str) -> ValidationError:
        return ValidationError(f"snapshot {shown!r} is not restored, nothing written: {why}")

    if len(files) > max_files or sum(info.file_size for info in files) > max_bytes:
        raise refuse(f"it holds more than {max_files} files or {max_bytes / MB:.1f} MB")
    real_target = target.resolve()
    for info in files:  # folder entries are not extracted: files' parents are made
        if why := _member_problem(info.filename):
            raise refuse(f"member {info.filename!r} {why}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise refuse(f"member {info.filename!r} is a symlink")
        if not (target / info.filename).parent.resolve().is_relative_to(real_target):
            raise refuse(f"member {info.filename!r} would be written outside {target}")
    names = [info.filename for info in files]
    folders = {name[:i] for name in names for i, ch in enumerate(name) if ch == "/"}
    if len(set(names)) < len(names) or folders.intersection(names):
        raise refuse("a member name appears twice, or as both a file and a folder")


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> Path:
    dest = target.joinpath(*info.filename.split("/"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with temporary_beside(dest) as (tmp, handle), archive.open(info) as src:
        shutil.copyfileobj(src, handle, _CHUNK)
        handle.close()
        os.chmod(tmp, _mode(info.external_attr >> 16))
        os.replace(tmp, dest)  # an existing symlink or hard link at `dest` is not written through
    return dest
