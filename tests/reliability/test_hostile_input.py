"""Case 11: malformed or hostile `config.json` and sweep files given to `python -m sweep.launch`.

Each input runs the real command in a fresh project folder. `--address` names a closed port,
so that an input wrongly accepted stops at the address check instead of starting Ray; the
assertions on the message tell the two apart. The process may use at most 2 GiB of memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.net import free_port

MEMORY_LIMIT = 2 << 30
BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "alphas: *i",
        "",
    ]
)


@dataclass(frozen=True)
class Hostile:
    """One hostile input: the files it writes into the project and the flags it passes."""

    id: str
    files: Callable[[Path], dict[str, bytes]]
    args: tuple[str, ...]
    says: str  # a fragment the one error line must hold


def _config(data: object) -> Callable[[Path], dict[str, bytes]]:
    return lambda _: {"config.json": json.dumps(data).encode()}


def _raw(name: str, content: bytes) -> Callable[[Path], dict[str, bytes]]:
    return lambda _: {name: content}


GARBAGE = bytes(range(256)) * 64
SWEEP = ("--sweep-file", "sweep.yaml")
CASES = [
    Hostile(
        "yaml-python-object-apply",
        lambda project: {
            "sweep.yaml": (
                f'alphas: !!python/object/apply:os.system ["touch {project / "pwned"}"]\n'
            ).encode()
        },
        SWEEP,
        "is malformed",
    ),
    Hostile(
        "yaml-python-name",
        _raw("sweep.yaml", b"estimator: !!python/name:os.system\n"),
        SWEEP,
        "is malformed",
    ),
    Hostile("yaml-billion-laughs", _raw("sweep.yaml", BILLION_LAUGHS.encode()), SWEEP, "alpha"),
    Hostile("yaml-binary-garbage", _raw("sweep.yaml", GARBAGE), SWEEP, "sweep file"),
    Hostile(
        "yaml-10MB",
        _raw("sweep.yaml", b"alphas: [" + b"0.1, " * (2 << 20) + b"0.2]\n"),
        SWEEP,
        "at most 1 MiB",
    ),
    Hostile("yaml-a-list", _raw("sweep.yaml", b"- 0.1\n- 0.2\n"), SWEEP, "mapping"),
    Hostile("yaml-unknown-key", _raw("sweep.yaml", b"colour: blue\n"), SWEEP, "colour"),
    Hostile("yaml-wrong-type", _raw("sweep.yaml", b"alphas: {a: 1}\n"), SWEEP, "alpha"),
    Hostile(
        "toml-garbage", _raw("sweep.toml", b"[[[=\x00"), ("--sweep-file", "sweep.toml"), "toml"
    ),
    Hostile("config-binary-garbage", _raw("config.json", GARBAGE), (), "config"),
    Hostile("config-10MB-value", _config({"name": "t", "padding": "x" * (10 << 20)}), (), "1 MiB"),
    Hostile("config-10MB-key", _config({"x" * (10 << 20): 1}), (), "at most 1 MiB"),
    Hostile("config-a-list", _config(["tracking_uri", "sqlite:///x.db"]), (), "JSON object"),
    Hostile("config-nested-100k", _raw("config.json", b"[" * 100_000), (), "config"),
    Hostile("config-storage-escapes", _config({"storage_uri": "../../etc"}), (), "../../etc"),
    Hostile(
        "config-tracking-escapes",
        _config({"tracking_uri": "sqlite:///../../etc/records.db"}),
        (),
        "../../etc",
    ),
    Hostile("config-unknown-key", _config({"name": "t", "colour": "blue"}), (), "colour"),
    Hostile("config-wrong-type-list", _config({"storage_uri": ["s"]}), (), "storage_uri"),
    Hostile("config-wrong-type-object", _config({"name": {"a": 1}}), (), "name"),
    Hostile("config-wrong-type-number", _config({"s3_endpoint_url": 5}), (), "s3_endpoint_url"),
]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.reliability(
    case=11,
    fault="a hostile or malformed config.json / sweep file: YAML !!python/object/apply, "
    "billion-laughs aliases, binary garbage, 10 MB, a list, 100k nesting, a storage or "
    "database path escaping to ../../etc, unknown keys, wrong types",
    expected="python -m sweep.launch exits 2 with one line naming the problem, no traceback; "
    "nothing written (no records.db, no storage files, no code run)",
)
@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_config_and_sweep_files_exit_2_and_write_nothing(
    tmp_path: Path, hostile: Hostile, record_property: pytest.RecordProperty
) -> None:
    project = tmp_path / "a" / "project"
    project.mkdir(parents=True)
    files = hostile.files(project)
    if "config.json" not in files:
        files["config.json"] = json.dumps({"name": "t"}).encode()
    for name, content in files.items():
        (project / name).write_bytes(content)
    before = _tree(tmp_path)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "sweep.launch", *hostile.args),
            *("--address", f"127.0.0.1:{free_port()}"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project), "RAY_ADDRESS": ""},
        preexec_fn=_limit_memory,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("sweep:")]
    written = sorted(set(_tree(tmp_path).items()) - set(before.items()))
    record_property(
        "observed",
        f"{hostile.id}: exit {result.returncode}, {len(lines)} 'sweep:' line"
        f"{'' if len(lines) == 1 else 's'} of {len(result.stderr)} chars, "
        f"{len(written)} paths written",
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert hostile.says.lower() in lines[0].lower(), lines[0]
    assert len(lines[0]) < 1000, "the error line repeats the input"
    assert result.stdout == ""
    assert written == [], written
    assert not (project / "pwned").exists()
