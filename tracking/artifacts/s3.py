"""`S3ArtifactStore`: run files under an `s3://bucket/prefix`, through boto3."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from tracking.artifacts.base import CHUNK, ArtifactStore, StoredObject, copy_hashing
from tracking.errors import NotFoundError, StorageError, ValidationError
from tracking.names import check_file_name

MAX_ATTEMPTS = 8
_MISSING_BUCKET = {"NoSuchBucket", "404", "NotFound"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    rest = uri[len("s3://") :] if uri.startswith("s3://") else ""
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValidationError(f"{uri!r} is not an S3 URI: use s3://bucket/prefix")
    return bucket, key.strip("/")


def make_s3_client(endpoint_url: str | None = None, *, max_attempts: int = MAX_ATTEMPTS) -> Any:
    """A boto3 S3 client with botocore's `standard` retries (throttling, 5xx, timeouts).

    The endpoint is `endpoint_url` if given, else whatever the standard AWS chain says
    (`AWS_ENDPOINT_URL`, profiles).
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": max_attempts})
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


class S3ArtifactStore(ArtifactStore):
    """Files under `s3://bucket/prefix`.

    Args:
        uri: the root, `s3://bucket` or `s3://bucket/prefix`.
        client: a boto3 S3 client to use; made on first use if not given.
        endpoint_url: the endpoint for a client made here (None: the AWS chain decides).
    """

    def __init__(self, uri: str, *, client: Any = None, endpoint_url: str | None = None) -> None:
        self.bucket, self.prefix = split_s3_uri(uri)
        self.root_uri = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self._endpoint_url = endpoint_url
        self._client = client

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.root_uri!r}, endpoint={self.endpoint!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Ray may pickle the store to a worker: the client is made again there.
        return {**self.__dict__, "_client": None}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_s3_client(self._endpoint_url)
        return self._client

    @property
    def endpoint(self) -> str:
        return str(self._endpoint_url or self.client.meta.endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _key_of(self, uri: str) -> str:
        bucket, key = split_s3_uri(uri)
        inside = not self.prefix or key.startswith(self.prefix + "/")
        if bucket != self.bucket or not inside:
            raise ValidationError(f"{uri!r} is outside the storage {self.root_uri}")
        check_file_name(key)
        return key

    def check_inside(self, uri: str) -> None:
        self._key_of(uri)

    @contextmanager
    def _errors(self, action: str, uri: str) -> Iterator[None]:
        """Turn botocore's errors into one line naming the bucket and endpoint."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_BUCKET and action != "read":
                raise StorageError(
                    f"S3 bucket {self.bucket!r} does not exist at endpoint {self.endpoint}"
                ) from None
            if code in _MISSING_KEY and action == "read":
                raise NotFoundError(
                    f"there is no object at {uri} (endpoint {self.endpoint})"
                ) from None
            raise StorageError(
                f"cannot {action} {uri} (bucket {self.bucket!r}, endpoint {self.endpoint}): "
                f"{code or err}"
            ) from None
        except BotoCoreError as err:
            raise StorageError(
                f"cannot {action} {uri}: S3 endpoint {self.endpoint} for bucket "
                f"{self.bucket!r} failed: {err}"
            ) from None

    def put(self, key: str, source: BinaryIO | Path) -> StoredObject:
        uri = self.uri_for(key)
        with tempfile.SpooledTemporaryFile(max_size=64 * CHUNK) as spool:
            if isinstance(source, Path):
                with source.open("rb") as stream:
                    size, sha256 = copy_hashing(stream, spool)  # type: ignore[arg-type]
            else:
                size, sha256 = copy_hashing(source, spool)  # type: ignore[arg-type]
            spool.seek(0)
            with self._errors("write", uri):
                # upload_fileobj completes a multipart upload only once every part is in,
                # so a failed upload never leaves a partial object.
                self.client.upload_fileobj(
                    spool, self.bucket, self._key(key), ExtraArgs={"Metadata": {"sha256": sha256}}
                )
        return StoredObject(uri, size, sha256)

    @contextmanager
    def open(self, uri: str) -> Iterator[BinaryIO]:
        key = self._key_of(uri)
        with self._errors("read", uri):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            with self._errors("read", uri):
                yield body
        finally:
            body.close()

    def check_writable(self) -> None:
        key = self._key(f".write-probe-{uuid.uuid4().hex}")
        with self._errors("write", f"s3://{self.bucket}/{key}"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=key)
