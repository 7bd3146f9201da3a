"""Validation of the names a user gives: experiment names, run ids, metric names and file
names.

File names are checked before any I/O. A name is percent-decoded until it stops changing,
so an encoded traversal (`..%2f`, `%252e%252e%252f`) is judged by what it decodes to; the
storage backends then check containment again after resolving the real path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tracking.errors import ValidationError

MAX_FILE_NAME = 1024
MAX_RUN_ID = 64
_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}")
# A run id names the run's folder in storage: a file name on every system, never '.' or '..'.
_RUN_ID = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.\-]{{0,{MAX_RUN_ID - 1}}}")
_FORBIDDEN_IN_FILE_NAMES = {"\\": "a backslash", "#": "'#'", ";": "';'", "?": "'?'", ":": "':'"}


def check_experiment_name(name: object) -> str:
    """Return `name` if it is a valid experiment name, else raise `ValidationError`."""
    if not isinstance(name, str) or not _EXPERIMENT_NAME.fullmatch(name) or ".." in name:
        raise ValidationError(
            f"experiment name {name!r} is not accepted: use 1 to 255 letters, digits, "
            "'-', '_' or '.', starting with a letter or digit"
        )
    return name


def check_run_id(run_id: object) -> str:
    """Return `run_id` if it is a valid run id, else raise `ValidationError`.

    Accepted: 1 to 64 ASCII letters, digits, '_', '-' or '.', starting with a letter, digit
    or '_' (UUIDs, Azure ML's and Ray Tune's ids pass). The same rule holds on every
    database, for every way in: the facade, the record store and the portal.
    """
    if isinstance(run_id, str) and _RUN_ID.fullmatch(run_id):
        return run_id
    shown = f"{run_id[:40]!r}..." if isinstance(run_id, str) and len(run_id) > 40 else repr(run_id)
    raise ValidationError(
        f"run id {shown} is not accepted: use 1 to {MAX_RUN_ID} letters, digits, '_', '-' "
        "or '.', starting with a letter, digit or '_'"
    )


def check_key(kind: str, key: object) -> str:
    """Return a metric, param, tag or property name if it is usable, else raise."""
    if not isinstance(key, str) or not key.strip() or len(key) > 255 or _has_control(key):
        raise ValidationError(
            f"{kind} name {key!r} is not accepted: use a non-empty string of at most 255 "
            "printable characters"
        )
    return key


_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")  # the only ASCII characters of those classes


def _has_control(text: str) -> bool:
    """Whether `text` holds a control, format or line/paragraph separator character."""
    if text.isascii():  # nearly every name: one scan in C rather than a lookup per character
        return _ASCII_CONTROL.search(text) is not None
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def _fully_decoded(name: str) -> str:
    for _ in range(10):
        decoded = unquote(name)
        if decoded == name:
            return name
        name = decoded
    raise ValidationError(f"file name {name!r} is not accepted: it is percent-encoded too deeply")


def check_file_name(name: object) -> str:
    """Return `name` if it is a safe relative file name, else raise `ValidationError`.

    Accepted: relative paths of '/'-separated segments, none empty, '.' or '..'. Rejected,
    whatever their percent-encoding: absolute paths, drive letters, backslashes, '#', ';',
    '?', ':' and control characters.
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"file name {name!r} is not accepted: it must be a non-empty string")
    if len(name) > MAX_FILE_NAME:
        raise ValidationError(
            f"file name {name[:40]!r}... is not accepted: longer than {MAX_FILE_NAME} characters"
        )
    decoded = _fully_decoded(name)
    for candidate in {name, decoded}:
        _check_decoded_file_name(name, candidate)
    return name


def _check_decoded_file_name(original: str, name: str) -> None:
    def reject(why: str) -> ValidationError:
        return ValidationError(
            f"file name {original!r} is not accepted: {why}; use a relative path such as "
            "'outputs/model.pkl'"
        )

    if _has_control(name):
        raise reject("it contains control characters")
    for char, label in _FORBIDDEN_IN_FILE_NAMES.items():
        if char in name:
            raise reject(f"it contains {label}")
    if name.startswith("/") or name.startswith("~"):
        raise reject("it is an absolute path")
    segments = name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise reject("it has an empty, '.' or '..' path segment")


# Tags or properties to filter by, as Azure ML v1 takes them (see `label_filter`).
Labels = Mapping[str, Any] | Iterable[str | Sequence[str]] | str | None


def label_filter(kind: str, labels: Labels) -> dict[str, str | None]:
    """Tags or properties (`kind`: 'tag' or 'property') to filter by, as Azure ML v1 takes
    them: a dict of key -> value (None: any value), a key, or a list of keys and
    [key, value] pairs.

    Raises:
        ValidationError: an item of another shape, or a key that is not a valid name.
    """
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {check_key(kind, k): None if v is None else str(v) for k, v in labels.items()}
    if not isinstance(labels, (str, list, tuple)):
        raise ValidationError(
            f"{kind} filter {labels!r} is not accepted: use a dict, a key, or a list of keys "
            "and [key, value] pairs"
        )
    found: dict[str, str | None] = {}
    for item in [labels] if isinstance(labels, str) else labels:
        if isinstance(item, str):
            found[check_key(kind, item)] = None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            found[check_key(kind, item[0])] = str(item[1])
        else:
            raise ValidationError(
                f"{kind} filter item {item!r} is not accepted: use 'key' or ['key', 'value']"
            )
    return found


def inside(folder: Path, name: str) -> Path:
    """`folder/name` for a checked file name, refusing any result that resolves outside
    `folder` (symlinks too): where a download writes a file.

    Raises:
        ValidationError: `name` is not a safe file name, or lands outside `folder`.
    """
    target = folder / check_file_name(name)
    if not target.resolve().is_relative_to(folder.resolve()):
        raise ValidationError(f"file {name!r} would be written outside {folder}")
    return target
