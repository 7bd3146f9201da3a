"""Artifact stores, chosen by the scheme of the workspace's storage URI.

`BACKENDS` is the one place that maps a scheme to its backend: adding one (say `gs://`) is
a line there and its module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from tracking.errors import ConfigError

if TYPE_CHECKING:
    from tracking.artifacts.base import ArtifactStore


@dataclass(frozen=True)
class Options:
    """What a backend may need besides the URI (each takes what it uses)."""

    base_dir: Path | None = None  # where a relative folder resolves
    s3_endpoint_url: str | None = None
    s3_client: Any = None


def _open_local(uri: str, options: Options) -> ArtifactStore:
    from tracking.artifacts.local import LocalArtifactStore

    path = Path(unquote(urlparse(uri).path)) if uri.lower().startswith("file:") else Path(uri)
    path = path.expanduser()
    if not path.is_absolute():
        path = (options.base_dir or Path.cwd()) / path
    return LocalArtifactStore(path)


def _open_s3(uri: str, options: Options) -> ArtifactStore:
    from tracking.artifacts.s3 import S3ArtifactStore

    return S3ArtifactStore(uri, client=options.s3_client, endpoint_url=options.s3_endpoint_url)


# scheme -> its backend's opener (which imports the backend on first use). A folder path
# (no scheme, or a Windows drive letter) is `file`.
BACKENDS: dict[str, Callable[[str, Options], ArtifactStore]] = {
    "file": _open_local,
    "s3": _open_s3,
}
SCHEMES = tuple(BACKENDS)


def scheme_of(uri: str) -> str:
    """The scheme of a storage URI: `file` for a folder path.

    Raises:
        ConfigError: the scheme is not one of `SCHEMES` (the message lists them).
    """
    scheme = urlparse(uri).scheme.lower()
    if scheme == "" or (len(scheme) == 1 and uri[1:2] == ":"):
        return "file"
    if scheme not in BACKENDS:
        raise ConfigError(
            f"storage URI {uri!r} has an unsupported scheme {scheme!r}; supported: a folder "
            "path, " + ", ".join(f"{s}://" for s in SCHEMES)
        )
    return scheme


def open_artifact_store(
    uri: str,
    *,
    base_dir: Path | None = None,
    s3_endpoint_url: str | None = None,
    s3_client: Any = None,
) -> ArtifactStore:
    """Open the artifact store that `uri` names: a folder path, `file://...` or `s3://...`.

    A relative folder resolves against `base_dir`. A backend's module (boto3, for S3) is
    imported only when a URI of its scheme is opened.

    Raises:
        ConfigError: the URI's scheme is not supported (the message lists the ones that are).
    """
    options = Options(base_dir, s3_endpoint_url, s3_client)
    return BACKENDS[scheme_of(uri)](uri, options)
