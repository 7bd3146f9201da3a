"""`S3ArtifactStore`: run files under an `s3://bucket/prefix`, through boto3."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from tracking.artifacts.base import (
    CHUNK,
    ArtifactStore,
    Leftover,
    ObjectInfo,
    StoredObject,
    check_prefix,
    copy_hashing,
)
from tracking.errors import NotFoundError, StorageError, ValidationError
from tracking.names import check_file_name

MAX_ATTEMPTS = 8
_MISSING_BUCKET = {"NoSuchBucket", "404", "NotFound"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_MISSING_UPLOAD = {"NoSuchUpload", "404"}


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
        if "://" not in uri:  # a key relative to the root, as records keep it
            check_file_name(uri)
            return self._key(uri)
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
            code = _code(err)
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

    # -- listing and clean-up ----------------------------------------------------------
    def key_of(self, uri: str) -> str:
        return self._relative(self._key_of(uri))

    def _relative(self, key: str) -> str:
        """A bucket key listed under the root, relative to the root."""
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full = self._key(check_prefix(prefix))
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full
        )
        with self._errors("list", f"s3://{self.bucket}/{full}"):
            for page in pages:
                for item in page.get("Contents", ()):
                    if item["Key"].endswith("/"):  # a folder marker, not a file
                        continue
                    key = self._relative(item["Key"])
                    yield ObjectInfo(
                        self.uri_for(key), key, int(item["Size"]), _utc(item["LastModified"])
                    )

    def delete(self, uri: str, *, not_modified_after: datetime | None = None) -> bool:
        key = self._key_of(uri)
        try:
            with self._errors("read", uri):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except NotFoundError:
            return False
        # HEAD gives whole seconds, a listing milliseconds: the write that was listed never
        # looks newer than its listing; a write in a later second does.
        if not_modified_after is not None and _utc(head["LastModified"]) > not_modified_after:
            return False
        with self._errors("delete", uri):
            self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def leftovers(self, started_before: datetime) -> list[Leftover]:
        # An upload still receiving parts is alive however long ago it began: it counts
        # from its newest part.
        found = []
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self._key("")
        )
        with self._errors("list", self.root_uri):
            for page in pages:
                for upload in page.get("Uploads", ()):
                    key, upload_id = upload["Key"], upload["UploadId"]
                    if _utc(upload["Initiated"]) >= started_before:
                        continue
                    activity = self._activity(key, upload_id, _utc(upload["Initiated"]))
                    if activity is not None and activity[1] < started_before:
                        found.append(self._leftover(key, upload_id, *activity))
        return found

    def _leftover(self, key: str, upload_id: str, size: int, started: datetime) -> Leftover:
        relative = self._relative(key)
        return Leftover("multipart", self.uri_for(relative), relative, size, started, upload_id)

    def _activity(
        self, key: str, upload_id: str, initiated: datetime
    ) -> tuple[int, datetime] | None:
        """The bytes an upload holds and when it last received a part (None: it ended)."""
        from botocore.exceptions import ClientError

        pages = self.client.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=key, UploadId=upload_id
        )
        size, latest = 0, initiated
        try:
            for part in (part for page in pages for part in page.get("Parts", ())):
                size += int(part["Size"])
                latest = max(latest, _utc(part["LastModified"]))
        except ClientError as err:
            if _code(err) in _MISSING_UPLOAD:
                return None
            raise
        return size, latest

    def remove(self, leftover: Leftover) -> bool:
        if leftover.kind != "multipart" or not leftover.upload_id:
            raise ValidationError(f"{leftover.uri!r} is not a multipart upload of {self}")
        from botocore.exceptions import ClientError

        key = self._key_of(self.uri_for(leftover.key))
        with self._errors("abort the upload to", leftover.uri):
            activity = self._activity(key, leftover.upload_id, leftover.started)
            if activity is None or activity[1] > leftover.started:
                return False  # ended, or received a part since it was listed: alive
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=leftover.upload_id
                )
            except ClientError as err:
                if _code(err) in _MISSING_UPLOAD:
                    return False
                raise
        return True


def _code(err: Any) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
