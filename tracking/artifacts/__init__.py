"""Artifact stores, chosen by the scheme of the workspace's storage URI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from tracking.errors import ConfigError

if TYPE_CHECKING:
    from tracking.artifacts.base import ArtifactStore

SCHEMES = ("file", "s3")


def open_artifact_store(
    uri: str,
    *,
    base_dir: Path | None = None,
    s3_endpoint_url: str | None = None,
    s3_client: Any = None,
) -> ArtifactStore:
    """Open the artifact store that `uri` names: a folder path, `file://...` or `s3://...`.

    A relative folder resolves against `base_dir`. The S3 backend (boto3) is imported only
    when an `s3://` URI is opened.

    Raises:
        ConfigError: the URI's scheme is not supported (the message lists the ones that are).
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "s3":
        from tracking.artifacts.s3 import S3ArtifactStore

        return S3ArtifactStore(uri, client=s3_client, endpoint_url=s3_endpoint_url)
    if scheme in ("", "file") or (len(scheme) == 1 and uri[1:2] == ":"):
        from tracking.artifacts.local import LocalArtifactStore

        path = Path(unquote(parsed.path)) if scheme == "file" else Path(uri)
        path = path.expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return LocalArtifactStore(path)
    raise ConfigError(
        f"storage URI {uri!r} has an unsupported scheme {scheme!r}; supported: a folder path, "
        + ", ".join(f"{s}://" for s in SCHEMES)
    )
