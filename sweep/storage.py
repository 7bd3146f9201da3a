"""Where Ray Tune keeps a sweep's checkpoints: the workspace's storage root + '/sweeps'."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from pyarrow import fs

from sweep.errors import SweepInputError
from tracking import Workspace

MAX_ATTEMPTS = 8  # S3 requests: about 40 s of backoff before an error, a short outage survived


def _rebuild(kwargs: dict[str, Any], max_attempts: int) -> RetryingS3FileSystem:
    return RetryingS3FileSystem(max_attempts=max_attempts, **kwargs)


class RetryingS3FileSystem(fs.S3FileSystem):
    """pyarrow's S3 filesystem whose retry budget survives pickling.

    pyarrow's own `__reduce__` drops `retry_strategy` (apache/arrow GH-47348), and Tune
    sends the filesystem to each trial's worker pickled: there it would fall back to 3
    attempts (about 2 s) and fail a trial at the first blip of the endpoint.
    """

    def __init__(self, *, max_attempts: int = MAX_ATTEMPTS, **kwargs: Any) -> None:
        strategy = fs.AwsStandardS3RetryStrategy(max_attempts=max_attempts)
        super().__init__(retry_strategy=strategy, **kwargs)
        self.max_attempts = max_attempts

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = super().__reduce__()[1][0]
        return _rebuild, (kwargs, self.max_attempts)


def tune_storage(workspace: Workspace) -> tuple[str, Any]:
    """Ray Tune's storage path and filesystem (None: a local folder)."""
    from tracking.artifacts.local import LocalArtifactStore
    from tracking.artifacts.s3 import S3ArtifactStore

    store = workspace.artifacts
    if isinstance(store, LocalArtifactStore):
        return str(store.root / "sweeps"), None
    if isinstance(store, S3ArtifactStore):
        endpoint = urlparse(store.endpoint)
        filesystem = RetryingS3FileSystem(
            endpoint_override=endpoint.netloc or None,
            scheme=endpoint.scheme or "https",
            region=store.client.meta.region_name or "us-east-1",
        )
        return "/".join(p for p in (store.bucket, store.prefix, "sweeps") if p), filesystem
    raise SweepInputError(f"Ray Tune cannot write to {store!r}")
