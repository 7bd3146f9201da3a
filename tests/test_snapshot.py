"""A run's code snapshot: what it takes, what it leaves out, and restoring it safely."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tracking.errors import NotFoundError, ValidationError
from tracking.snapshot import SnapshotZip, build_snapshot, restore_snapshot


@pytest.fixture
def snapshots() -> Iterator[list[SnapshotZip]]:
    """Every zip a test builds, deleted afterwards (the caller owns the temporary file)."""
    made: list[SnapshotZip] = []
    yield made
    for snap in made:
        snap.path.unlink(missing_ok=True)


Build = Callable[..., SnapshotZip]


@pytest.fixture
def snap(snapshots: list[SnapshotZip]) -> Build:
    """`build_snapshot`, remembering the zip so that it is deleted after the test."""

    def build(*args: Any, **kwargs: Any) -> SnapshotZip:
        made = build_snapshot(*args, **kwargs)
        snapshots.append(made)
        return made

    return build


def write(root: Path, files: Mapping[str, bytes | str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def make_venv(folder: Path) -> None:
    write(folder, {"pyvenv.cfg": "home = /usr/bin\n", "lib/site.py": "x = 1\n"})


def test_round_trip_is_byte_for_byte_with_executable_bit(tmp_path: Path, snap: Build) -> None:
    src = tmp_path / "src"
    files: dict[str, bytes | str] = {
        "train.py": "print('hi')\n",
        "pkg/__init__.py": "",
        "pkg/deep/er/model.py": "W = 2\n",
        "data/blob.bin": bytes(range(256)) * 50,
        "empty.txt": b"",
    }
    write(src, files)
    (src / "run.sh").write_text("#!/bin/sh\necho ok\n")
    (src / "run.sh").chmod(0o755)

    made = snap(src)
    restored = restore_snapshot(made.path, tmp_path / "out")

    assert made.members == tuple(sorted([*files, "run.sh"]))
    assert made.file_count == 6
    assert made.total_bytes == sum(len(c) for c in files.values()) + len("#!/bin/sh\necho ok\n")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in restored) == sorted(
        made.members
    )
    for name in made.members:
        assert (tmp_path / "out" / name).read_bytes() == (src / name).read_bytes()
    assert os.access(tmp_path / "out" / "run.sh", os.X_OK)
    assert not os.access(tmp_path / "out" / "train.py", os.X_OK)


@pytest.mark.parametrize(
    "excluded",
    [
        ".git/config",
        "__pycache__/train.cpython-311.pyc",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/stale.pyc",
        ".ipynb_checkpoints/nb-checkpoint.ipynb",
        "web/node_modules/left-pad/index.js",
        "outputs/model.pkl",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/CACHEDIR.TAG",
    ],
)
def test_default_exclusions(tmp_path: Path, snap: Build, excluded: str) -> None:
    write(tmp_path, {"train.py": "x\n", excluded: "junk\n"})
    assert snap(tmp_path).members == ("train.py",)


@pytest.mark.parametrize("venv_name", [".venv", "venv", "env", "my-python"])
def test_a_folder_holding_pyvenv_cfg_is_excluded(
    tmp_path: Path, snap: Build, venv_name: str
) -> None:
    write(tmp_path, {"train.py": "x\n"})
    make_venv(tmp_path / venv_name)
    assert snap(tmp_path).members == ("train.py",)


def test_env_folder_without_pyvenv_cfg_is_code(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"env/settings.py": "x\n", "pkg/outputs/parse.py": "y\n"})
    assert snap(tmp_path).members == ("env/settings.py", "pkg/outputs/parse.py")


def test_amlignore_beats_gitignore(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"a.csv": "1\n", "b.log": "2\n", "train.py": "x\n"})
    write(tmp_path, {".gitignore": "*.csv\n", ".amlignore": "*.log\n"})
    assert snap(tmp_path).members == (".amlignore", ".gitignore", "a.csv", "train.py")


def test_gitignore_is_read_without_amlignore(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"a.csv": "1\n", "train.py": "x\n", ".gitignore": "# data\n\n*.csv\n"})
    assert snap(tmp_path).members == (".gitignore", "train.py")


def test_gitignore_patterns(tmp_path: Path, snap: Build) -> None:
    write(
        tmp_path,
        {
            "build": "a file named build is kept: build/ names folders only\n",
            "lib/build/out.o": "dir-only pattern excludes this\n",
            "secret.txt": "anchored /secret.txt excludes the root one\n",
            "sub/secret.txt": "but not this one\n",
            "docs/a/b/c.md": "docs/**/*.md excludes at any depth\n",
            "docs/keep.txt": "kept\n",
            "cache/x/y.tmp": "**/y.tmp at any depth\n",
            "data/big.npy": "data/* excludes, negation keeps the next one\n",
            "data/README.md": "kept by !data/README.md\n",
            "logs/a1.log": "log?/a?.log: ? is one character\n",
            "logs/a10.log": "kept: ? is exactly one character\n",
            "#notes": "a pattern starting with \\# names it\n",
            "lib.a": "*.[ao] excludes this\n",
            "lib.c": "but keeps this\n",
        },
    )
    write(
        tmp_path,
        {
            ".amlignore": "\n".join(
                [
                    "# comment line, then a blank one",
                    "",
                    "build/",
                    "/secret.txt",
                    "docs/**/*.md",
                    "**/y.tmp",
                    "data/*",
                    "!data/README.md",
                    "log?/a?.log",
                    "\\#notes",
                    "*.[ao]",
                    ".amlignore",
                ]
            )
        },
    )
    assert snap(tmp_path).members == (
        "build",
        "data/README.md",
        "docs/keep.txt",
        "lib.c",
        "logs/a10.log",
        "sub/secret.txt",
    )


def test_negation_cannot_reach_into_an_excluded_folder(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"data/keep.py": "x\n", "train.py": "y\n", ".amlignore": "data/\n!keep.py\n"})
    assert snap(tmp_path).members == (".amlignore", "train.py")


def test_amlignore_can_take_a_default_back(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"outputs/keep.py": "x\n", ".amlignore": "!/outputs/\n.amlignore\n"})
    assert snap(tmp_path).members == ("outputs/keep.py",)


def test_a_list_of_paths_is_named_from_their_common_parent(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"src/a.py": "a\n", "src/__pycache__/a.pyc": "", "conf/c.yaml": "c\n"})
    write(tmp_path, {"README.md": "not listed\n"})
    made = snap([tmp_path / "src", str(tmp_path / "conf" / "c.yaml")])
    assert made.members == ("conf/c.yaml", "src/a.py")


def test_a_listed_path_is_taken_even_where_it_would_be_excluded(
    tmp_path: Path, snap: Build
) -> None:
    write(tmp_path, {"train.py": "x\n", "outputs/card.md": "c\n", "outputs/model.pkl": "m\n"})
    made = snap([tmp_path / "train.py", tmp_path / "outputs" / "card.md"])
    assert made.members == ("outputs/card.md", "train.py")


def test_a_single_file_and_an_explicit_base(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"project/src/train.py": "x\n"})
    assert snap(tmp_path / "project/src/train.py").members == ("train.py",)
    made = snap([tmp_path / "project/src/train.py"], base=tmp_path / "project")
    assert made.members == ("src/train.py",)


def test_a_path_outside_the_base_or_missing_is_refused(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"a/x.py": "x\n", "b/y.py": "y\n"})
    with pytest.raises(ValidationError, match="not inside the base"):
        snap([tmp_path / "b" / "y.py"], base=tmp_path / "a")
    with pytest.raises(NotFoundError, match="no such file or folder"):
        snap(tmp_path / "missing")


def test_size_limit(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"train.py": "x\n", "data/big.bin": b"\0" * 3 * 1024 * 1024})
    with pytest.raises(ValidationError) as caught:
        snap(tmp_path, max_bytes=2 * 1024 * 1024)
    message = str(caught.value)
    assert "is 3.0 MB, over the limit of 2.0 MB" in message
    assert "largest: 'data/'" in message
    assert ".amlignore" in message and "\n" not in message


def test_file_count_limit(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {f"f{i}.py": "" for i in range(6)})
    assert snap(tmp_path, max_files=6).file_count == 6
    with pytest.raises(ValidationError, match=r"has 6 files, over the limit of 5 files.*amlignore"):
        snap(tmp_path, max_files=5)


def test_limits_default_to_azure_v1s() -> None:
    from tracking.snapshot import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES

    assert (DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES) == (300 * 1024 * 1024, 2000)


def test_same_tree_gives_the_same_bytes(tmp_path: Path, snap: Build) -> None:
    files: dict[str, bytes | str] = {
        "train.py": "x\n",
        "pkg/m.py": "y\n",
        "blob.bin": os.urandom(5000),
    }
    write(tmp_path / "one", files)
    write(tmp_path / "two", dict(reversed(files.items())))
    os.utime(tmp_path / "two" / "train.py", (0, 10**9))  # mtimes and umasks do not matter
    (tmp_path / "two" / "train.py").chmod(0o600)
    (tmp_path / "two" / "blob.bin").chmod(0o664)
    first, again, other = snap(tmp_path / "one"), snap(tmp_path / "one"), snap(tmp_path / "two")
    digest = hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.sha256 == digest
    assert again.sha256 == other.sha256 == digest
    with zipfile.ZipFile(first.path) as archive:
        assert [i.date_time for i in archive.infolist()] == [(1980, 1, 1, 0, 0, 0)] * 3
        assert archive.namelist() == sorted(archive.namelist())


@pytest.mark.parametrize(
    "hostile", ["../x", "a/../../x", "/abs", "a\\b", "C:/x", "C:x", "a//b", "./x", "bad\x01"]
)
def test_hostile_members_are_refused_and_nothing_is_written(tmp_path: Path, hostile: str) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("fine.py", "x\n")  # first, so a partial restore would show
        archive.writestr(hostile, "pwned\n")
    target = tmp_path / "target"
    with pytest.raises(ValidationError, match="nothing written"):
        restore_snapshot(bad, target)
    assert not target.exists()
    assert not (tmp_path / "x").exists()


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "link.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(ValidationError, match="is a symlink"):
        restore_snapshot(bad, tmp_path / "target")


def test_restore_refuses_to_write_through_a_symlinked_folder(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("sub/x.py", "x\n")
    target, outside = tmp_path / "target", tmp_path / "outside"
    outside.mkdir()
    target.mkdir()
    (target / "sub").symlink_to(outside)
    with pytest.raises(ValidationError, match="outside"):
        restore_snapshot(good, target)
    assert list(outside.iterdir()) == []


def test_restore_refuses_a_zip_bomb_by_its_declared_size(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros", b"\0" * 2 * 1024 * 1024)
    with pytest.raises(ValidationError, match="more than"):
        restore_snapshot(bomb, tmp_path / "target", max_bytes=1024 * 1024)
    assert not (tmp_path / "target").exists()


def test_restore_replaces_existing_files_and_leaves_others(tmp_path: Path, snap: Build) -> None:
    write(tmp_path / "src", {"train.py": "new\n"})
    made = snap(tmp_path / "src")
    write(tmp_path / "out", {"train.py": "old\n", "notes.txt": "mine\n"})
    restore_snapshot(made.path, tmp_path / "out")
    assert (tmp_path / "out" / "train.py").read_text() == "new\n"
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine\n"


def test_a_member_both_file_and_folder_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("pkg", "x\n")
        archive.writestr("pkg/m.py", "y\n")
    with pytest.raises(ValidationError, match="both a file and a folder"):
        restore_snapshot(bad, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_restore_replaces_a_symlink_instead_of_writing_through_it(
    tmp_path: Path, snap: Build
) -> None:
    write(tmp_path / "src", {"train.py": "new\n"})
    made = snap(tmp_path / "src")
    other = tmp_path / "elsewhere.py"
    other.write_text("keep me\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train.py").symlink_to(other)
    restore_snapshot(made.path, tmp_path / "out")
    assert not (tmp_path / "out" / "train.py").is_symlink()
    assert (tmp_path / "out" / "train.py").read_text() == "new\n"
    assert other.read_text() == "keep me\n"


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ValidationError, match="not a valid snapshot zip"):
        restore_snapshot(tmp_path / "bad.zip", tmp_path / "target")
    with pytest.raises(NotFoundError):
        restore_snapshot(tmp_path / "missing.zip", tmp_path / "target")


def test_a_symlink_pointing_outside_is_not_archived(tmp_path: Path, snap: Build) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (tmp_path / "outside").mkdir()
    root = tmp_path / "root"
    write(root, {"train.py": "x\n", "pkg/m.py": "y\n"})
    (root / "leak.txt").symlink_to(secret)
    (root / "leakdir").symlink_to(tmp_path / "outside")
    (root / "alias.py").symlink_to(root / "pkg" / "m.py")
    (root / "loop").symlink_to(root)

    made = snap(root)

    assert made.members == ("alias.py", "pkg/m.py", "train.py")
    assert any(s.startswith("leak.txt: a symlink to outside") for s in made.skipped)
    assert any(s.startswith("leakdir: a symlink to outside") for s in made.skipped)
    assert "loop: a symlinked folder, not followed" in made.skipped
    with zipfile.ZipFile(made.path) as archive:
        assert archive.read("alias.py") == b"y\n"
        assert b"password" not in b"".join(archive.read(n) for n in archive.namelist())


def test_a_file_name_a_zip_cannot_restore_is_refused(tmp_path: Path, snap: Build) -> None:
    write(tmp_path, {"train.py": "x\n", "odd\\name.py": "y\n"})
    with pytest.raises(ValidationError, match="backslash.*amlignore"):
        snap(tmp_path)
    write(tmp_path, {".amlignore": "odd*\n"})
    assert "train.py" in snap(tmp_path).members


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_a_file_growing_past_the_limit_fails_and_leaves_no_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /proc files stat as 0 bytes and read as more: a file that grows after it is measured.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ValidationError, match="grew over the limit"):
        build_snapshot("/proc/self/status", base="/", max_bytes=10)
    assert list(tmp_path.iterdir()) == []
