"""The workspace a command names with `--config`, found the way `Workspace.from_config()` does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tracking import config as configs
from tracking.config import WorkspaceConfig

if TYPE_CHECKING:
    from tracking.workspace import Workspace


def load_config(path: str | None) -> WorkspaceConfig:
    """The config at `path` (a file or folder), else ./config.json, else the embedded one.

    Raises:
        ConfigError: `path` holds no config file, or the file is malformed.
    """
    found = configs.find_config(path)
    return configs.load_config(found) if found else configs.default_config(Path.cwd())


def open_workspace(path: str | None) -> Workspace:
    """The `Workspace` of `load_config(path)`."""
    from tracking.workspace import Workspace

    return Workspace._from(load_config(path))
