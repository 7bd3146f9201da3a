"""Storage URIs <-> Ray Tune's storage paths and pyarrow filesystems, by scheme.

Where Ray Tune keeps a sweep's checkpoints (the workspace's storage root + '/sweeps'), and
the URI of a path on a pyarrow filesystem (a checkpoint Tune reports). The one module that
maps between the two: each direction is a table by scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

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


def _local_storage(store: Any) -> tuple[str, Any]:
    return url2pathname(urlparse(store.root_uri).path) + "/sweeps", None


def _s3_storage(store: Any) -> tuple[str, Any]:
    endpoint = urlparse(store.endpoint)
    filesystem = RetryingS3FileSystem(
        endpoint_override=endpoint.netloc or None,
        scheme=endpoint.scheme or "https",
        region=store.client.meta.region_name or "us-east-1",
    )
    return store.root_uri[len("s3://") :].rstrip("/") + "/sweeps", filesystem


# The workspace storage's URI scheme -> Tune's storage path and filesystem for it.
_TUNE_STORAGE: dict[str, Callable[[Any], tuple[str, Any]]] = {
    "file": _local_storage,
    "s3": _s3_storage,
}


def tune_storage(workspace: Workspace) -> tuple[str, Any]:
    """Ray Tune's storage path and filesystem (None: a local folder).

    Raises:
        SweepInputError: Tune has no filesystem for the storage's scheme.
    """
    store = workspace.artifacts
    scheme = urlparse(store.root_uri).scheme
    make = _TUNE_STORAGE.get(scheme)
    if make is None:
        schemes = ", ".join(f"{s}://" for s in _TUNE_STORAGE)
        raise SweepInputError(f"Ray Tune cannot write to {store!r}: it writes to {schemes}")
    return make(store)


# A pyarrow filesystem's `type_name` -> the URI of a path on it.
_URI_OF: dict[str, Callable[[str], str]] = {
    "local": lambda path: Path(path).absolute().as_uri(),
    "s3": lambda path: f"s3://{path.lstrip('/')}",
}


def uri_of(path: str, filesystem: Any) -> str:
    """The URI of `path` on a pyarrow filesystem (None: the local one).

    Raises:
        ValueError: a filesystem with no URI scheme here (say, a custom fsspec one).
    """
    kind = "local" if filesystem is None else str(filesystem.type_name)
    make = _URI_OF.get(kind)
    if make is None:
        raise ValueError(f"no URI for a path on a {kind!r} filesystem: known are {sorted(_URI_OF)}")
    return make(path)
