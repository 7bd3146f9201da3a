"""Reading a workspace's `config.json`: the fields, their checks and path resolution."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracking.errors import ConfigError
from tracking.heartbeat import DEFAULT_TIMEOUT_S

CONFIG_NAMES = ("config.json", ".azureml/config.json")
DEFAULT_FOLDER = "workspace"
MAX_CONFIG_BYTES = 1 << 20
FIELDS = (
    "name",
    "tracking_uri",
    "storage_uri",
    "s3_endpoint_url",
    "portal_url",
    "heartbeat_timeout_s",
    "compute_targets",
)
# Keys of an Azure Machine Learning config.json, accepted so that one file can serve both.
AZURE_FIELDS = ("subscription_id", "resource_group", "workspace_name")

_announced = False
# scheme://user:password@host...: the password is what follows the user's ':' up to the
# last '@' before the path (a '/') or the end of the URL (whitespace or a quote).
_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^/:@\s'\"]*:)[^/\s'\"]*@")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkspaceConfig:
    name: str
    tracking_uri: str
    storage_uri: str
    s3_endpoint_url: str | None = None
    portal_url: str | None = None
    base_dir: Path | None = None  # where relative paths in the URIs resolve
    source: Path | None = None  # the config file, if there was one
    heartbeat_timeout_s: float = DEFAULT_TIMEOUT_S  # a run silent this long is lost
    # From an Azure config.json, shown as v1 shows them; empty when the config has none.
    subscription_id: str = ""
    resource_group: str = ""
    # Named Ray clusters, as Azure's compute targets are named: (name, Ray address) pairs.
    compute_targets: tuple[tuple[str, str], ...] = ()


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by '***', for messages and reprs.

    A password runs to the last '@' before the host (so one holding '@' is hidden whole).
    """
    return _PASSWORD.sub(r"\1***@", text)


def default_config(folder: Path) -> WorkspaceConfig:
    """The embedded workspace: a SQLite file and a storage folder under `folder/workspace`."""
    root = folder / DEFAULT_FOLDER
    return WorkspaceConfig(
        name="local",
        tracking_uri=f"sqlite:///{root / 'records.db'}",
        storage_uri=str(root / "storage"),
        base_dir=folder,
    )


def announce_default(config: WorkspaceConfig) -> None:
    """Say once per process, as a logged warning, that the embedded workspace is in use.

    With logging not set up, Python prints it on stderr.
    """
    global _announced
    if not _announced:
        _announced = True
        log.warning(
            "tracking: no config.json found; using the local workspace in %s",
            config.base_dir / DEFAULT_FOLDER if config.base_dir else DEFAULT_FOLDER,
        )


def find_config(path: str | Path | None) -> Path | None:
    """The config file that `path` (a file, a folder, or None for the current folder) names.

    Raises:
        ConfigError: `path` was given but no config file is there.
    """
    start = Path.cwd() if path is None else Path(path).expanduser()
    if start.is_file():
        return start
    candidates = [start / name for name in CONFIG_NAMES]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None and path is not None:
        raise ConfigError(
            f"no workspace config at {start}: expected a config.json file or a folder holding one"
        )
    return found


def resolve_config(path: str | Path | None) -> WorkspaceConfig:
    """The config that `path` names (a file, or a folder holding one); with None, the
    current folder's config file, else its embedded workspace (announced once).

    Raises:
        ConfigError: `path` was given but holds no config file, or the file is malformed.
    """
    found = find_config(path)
    if found is not None:
        return load_config(found)
    config = default_config(Path.cwd())
    announce_default(config)
    return config


def load_config(file: Path) -> WorkspaceConfig:
    """Parse and check a config file.

    Raises:
        ConfigError: the file is not a JSON object of the accepted fields and types.
    """
    try:
        size = file.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"workspace config {file} is {size:,} bytes: a config is at most 1 MiB"
            )
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"workspace config {file} is not readable JSON: {err}") from None
    except RecursionError:
        raise ConfigError(f"workspace config {file} is nested too deeply to be a config") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"workspace config {file} must hold a JSON object, not {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(FIELDS) - set(AZURE_FIELDS))
    if unknown:
        raise ConfigError(
            f"workspace config {file} has unknown field(s) "
            f"{', '.join(repr(_shown(name)) for name in unknown)}; "
            f"accepted: {', '.join(FIELDS)}"
        )
    targets = _compute_targets(file, data.pop("compute_targets", None))
    timeout = data.pop("heartbeat_timeout_s", None)
    if timeout is not None:
        check_timeout(timeout, f"workspace config {file}: field 'heartbeat_timeout_s'")
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"workspace config {file}: field {key!r} must be a string, "
                f"not {_shown(repr(value))}"
            )
    for key in ("tracking_uri", "storage_uri"):
        if data.get(key):
            _check_inside(file, key, data[key])
    default = default_config(file.parent)
    return WorkspaceConfig(
        name=data.get("name") or data.get("workspace_name") or default.name,
        tracking_uri=data.get("tracking_uri") or default.tracking_uri,
        storage_uri=data.get("storage_uri") or default.storage_uri,
        s3_endpoint_url=data.get("s3_endpoint_url"),
        portal_url=data.get("portal_url"),
        base_dir=file.parent.absolute(),
        source=file.absolute(),
        heartbeat_timeout_s=DEFAULT_TIMEOUT_S if timeout is None else float(timeout),
        subscription_id=data.get("subscription_id") or "",
        resource_group=data.get("resource_group") or "",
        compute_targets=targets,
    )


def _compute_targets(file: Path, value: Any) -> tuple[tuple[str, str], ...]:
    """`"compute_targets": {"cpu-cluster": {"address": "10.0.0.5:6379"}}`, checked."""
    if value is None:
        return ()
    form = '{"NAME": {"address": "HOST:PORT"}, ...}'
    if not isinstance(value, dict):
        raise ConfigError(f"workspace config {file}: field 'compute_targets' must be {form}")
    targets = []
    for name, target in value.items():
        if not isinstance(target, dict) or set(target) != {"address"}:
            raise ConfigError(
                f"workspace config {file}: compute target {_shown(repr(name))} must be "
                f'{{"address": "HOST:PORT"}}, as in {form}'
            )
        if not isinstance(target["address"], str) or not target["address"].strip():
            raise ConfigError(
                f"workspace config {file}: compute target {_shown(repr(name))} needs an "
                "address, a Ray cluster's HOST:PORT"
            )
        targets.append((str(name), target["address"].strip()))
    return tuple(targets)


def _shown(text: str, width: int = 60) -> str:
    """`text`, cut short for an error line."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _check_inside(file: Path, key: str, uri: str) -> None:
    """A relative path in a config stays in the config's folder: no '..' out of it."""
    path = uri.removeprefix("sqlite:///").removeprefix("file://")
    if "://" in path or Path(path).is_absolute():
        return
    if ".." in Path(path).parts:
        raise ConfigError(
            f"workspace config {file}: field {key!r} is {_shown(uri)!r}, a relative path that "
            "leaves the config's folder: give an absolute path instead"
        )


def check_timeout(value: object, what: str) -> None:
    """A heartbeat timeout must be a number of seconds, at least 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 1:
        raise ConfigError(f"{what} must be a number of seconds >= 1, not {value!r}")
