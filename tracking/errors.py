"""The errors that `tracking` raises: one base class and a few kinds a caller may catch."""

from __future__ import annotations


class TrackingError(Exception):
    """Base class of every error raised by `tracking`."""


class ConfigError(TrackingError, ValueError):
    """A workspace configuration or URI that cannot be used."""


class ValidationError(TrackingError, ValueError):
    """A name, metric value or argument that is not accepted."""


class NotFoundError(TrackingError, LookupError):
    """An experiment, run or file that does not exist."""


class RunFinishedError(TrackingError):
    """A write to a run that has already completed, failed or been canceled."""


class ConflictError(TrackingError):
    """A write that would replace something that already exists."""


class StorageError(TrackingError):
    """The records database or the artifact storage (a folder, an S3 bucket) is unusable."""


class SchemaError(StorageError):
    """A records database whose schema version this release does not read as it is."""


class IntegrityError(TrackingError):
    """A stored file whose content no longer matches the SHA-256 recorded for it."""


class UnsupportedError(TrackingError, NotImplementedError):
    """An Azure ML call with no meaning off Azure; the message says what to use instead."""


class RunFailedError(TrackingError):
    """A run waited for (`wait_for_completion`) ended `Failed` (v1's ActivityFailedException)."""
