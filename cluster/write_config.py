"""Write a workspace `config.json` from environment variables, on a cluster node at setup time.

    python cluster/write_config.py [PATH]        (default PATH: ./config.json)

Reads RAYSWEEP_TRACKING_URI (the record database, e.g. postgresql://user:pass@host/db) and
RAYSWEEP_STORAGE_URI (s3://bucket/prefix, or an absolute path on a shared filesystem), and
optionally RAYSWEEP_WORKSPACE_NAME, RAYSWEEP_S3_ENDPOINT_URL and RAYSWEEP_PORTAL_URL. The
file is written whole (a temporary file renamed over it) and readable by its owner only: it
holds the database password. Secrets stay in the environment of the deployment (a Kubernetes
Secret, an env file) and never in a checked-in file.

Exit codes: 0 written; 2 a variable is missing or malformed, or bad usage (one line on stderr).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PROG = "write_config"
REQUIRED = {
    "RAYSWEEP_TRACKING_URI": (
        "tracking_uri",
        "the record database, e.g. postgresql://user:password@host:5432/raysweep",
    ),
    "RAYSWEEP_STORAGE_URI": ("storage_uri", "the file storage, e.g. s3://bucket/prefix"),
}
OPTIONAL = {
    "RAYSWEEP_S3_ENDPOINT_URL": "s3_endpoint_url",
    "RAYSWEEP_PORTAL_URL": "portal_url",
}
DEFAULT_NAME = "cluster"


class UsageError(Exception):
    """Bad arguments or environment: reported on one line, exit code 2."""


def redact(uri: str) -> str:
    """`uri` with any password replaced by '***'."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", uri)


def config_from(environ: Mapping[str, str]) -> dict[str, str]:
    """The config.json fields that the RAYSWEEP_* variables in `environ` describe.

    Raises:
        UsageError: a required variable is unset or empty, or a URI cannot serve a cluster.
    """
    config = {"name": environ.get("RAYSWEEP_WORKSPACE_NAME", "").strip() or DEFAULT_NAME}
    for variable, (field, meaning) in REQUIRED.items():
        value = environ.get(variable, "").strip()
        if not value:
            raise UsageError(f"{variable} is not set: {meaning}")
        config[field] = value
    if "://" not in config["tracking_uri"]:
        raise UsageError(
            f"RAYSWEEP_TRACKING_URI {redact(config['tracking_uri'])!r} is not a database URL: "
            "use postgresql://user:password@host/db (or sqlite:////absolute/path)"
        )
    storage = config["storage_uri"]
    if "://" not in storage and not storage.startswith("/"):
        raise UsageError(
            f"RAYSWEEP_STORAGE_URI {storage!r} is a relative path, which every node would "
            "resolve on its own disk: use s3://bucket/prefix or an absolute shared path"
        )
    for variable, field in OPTIONAL.items():
        value = environ.get(variable, "").strip()
        if value:
            config[field] = value
    return config


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    try:
        if len(args) > 1 or (args and args[0].startswith("-")):
            raise UsageError(f"usage: python cluster/write_config.py [PATH], not {args}")
        config = config_from(os.environ if environ is None else environ)
        path = Path(args[0] if args else "config.json").expanduser()
        write_private(path, json.dumps(config, indent=2) + "\n")
    except UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"{PROG}: error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        return 1
    print(
        f"{PROG}: wrote {path} (tracking {redact(config['tracking_uri'])}, "
        f"storage {config['storage_uri']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
