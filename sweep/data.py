"""Training data: the tutorial's diabetes data, a scikit-learn data set by name
(`sklearn:iris`), or a CSV/Parquet table (local or s3://)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sweep.errors import SweepInputError
from sweep.spec import DataSpec

MIN_SPLIT_ROWS = 2  # in each of the train and test parts
BUILTIN_PREFIX = "sklearn:"
# The small data sets shipped inside scikit-learn (nothing is downloaded), by the name that
# follows `sklearn:`; the target column of each is "target".
BUILTINS = {
    "diabetes": "load_diabetes",  # regression: 442 rows, 10 features
    "iris": "load_iris",  # 3 classes: 150 rows, 4 features
    "wine": "load_wine",  # 3 classes: 178 rows, 13 features
    "breast_cancer": "load_breast_cancer",  # 2 classes: 569 rows, 30 features
}


@dataclass(frozen=True)
class Dataset:
    """A train/test split as arrays, cheap to put in Ray's object store once: the features
    as floats; the target as floats, or as text when its column holds class labels."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    features: tuple[str, ...]
    source: str

    @property
    def rows(self) -> int:
        return len(self.y_train) + len(self.y_test)


def load_dataset(
    spec: DataSpec, *, seed: int, s3_client: Any = None, s3_endpoint_url: str | None = None
) -> Dataset:
    """Load and split the data that `spec` names.

    Args:
        s3_client: reads an `s3://` file (default: a client for `s3_endpoint_url`).
        s3_endpoint_url: the S3 endpoint of an `s3://` file (the workspace's
            `s3_endpoint_url`; None: the standard AWS chain decides).

    Raises:
        SweepInputError: the file is missing or unreadable, a `sklearn:` name is not one of
            `BUILTINS`, the target column is missing, a feature is not numeric or has
            missing values, or there are too few rows.
    """
    if spec.path is None:
        from sklearn.datasets import load_diabetes

        frame = load_diabetes(as_frame=True).frame
        target = spec.target or "target"
        source = "scikit-learn's diabetes data (442 rows, 10 scaled features)"
    elif spec.path.startswith(BUILTIN_PREFIX):
        frame = _builtin(spec.path.removeprefix(BUILTIN_PREFIX))
        target = spec.target or "target"
        source = spec.path
    else:
        frame = _read_table(spec.path, s3_client, s3_endpoint_url)
        target = spec.target or ""
        source = spec.path
    if target not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise SweepInputError(
            f"target column {target!r} is not in {source}; its columns are: {shown}"
            + ("" if spec.target else " (name one with --target)")
        )
    features = frame.drop(columns=[target])
    from pandas.api.types import is_numeric_dtype

    bad = [str(c) for c in features.columns if not is_numeric_dtype(features[c])]
    if bad:
        raise SweepInputError(f"feature column(s) {', '.join(bad)} of {source} are not numeric")
    missing = [str(c) for c in frame.columns if frame[c].isna().any()]
    if missing:
        raise SweepInputError(f"column(s) {', '.join(missing)} of {source} have missing values")
    rows = len(frame)
    n_test = math.ceil(rows * spec.test_size)
    if n_test < MIN_SPLIT_ROWS or rows - n_test < MIN_SPLIT_ROWS:
        raise SweepInputError(
            f"{source} has {rows} rows: too few to split with test_size {spec.test_size} "
            f"(need at least {MIN_SPLIT_ROWS} rows in each part)"
        )
    from sklearn.model_selection import train_test_split

    labels = frame[target]
    # A text column is a classifier's labels ('setosa', ...): kept as they are.
    y = labels.to_numpy(dtype=float) if is_numeric_dtype(labels) else labels.to_numpy(dtype=str)
    X_train, X_test, y_train, y_test = train_test_split(
        features.to_numpy(dtype=float), y, test_size=spec.test_size, random_state=seed
    )
    return Dataset(X_train, X_test, y_train, y_test, tuple(map(str, features.columns)), source)


def _builtin(name: str) -> Any:
    """The scikit-learn data set `name` (a key of `BUILTINS`) as one frame, with "target"."""
    if name not in BUILTINS:
        raise SweepInputError(
            f"data {BUILTIN_PREFIX}{name} is not accepted: use one of "
            + ", ".join(BUILTIN_PREFIX + known for known in BUILTINS)
        )
    import sklearn.datasets

    return getattr(sklearn.datasets, BUILTINS[name])(as_frame=True).frame


def _read_table(path: str, s3_client: Any, s3_endpoint_url: str | None) -> Any:
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise SweepInputError(f"data file {path!r} is not accepted: use a .csv or .parquet file")
    source: Any = path
    if path.startswith("s3://"):
        source = io.BytesIO(_read_s3(path, s3_client, s3_endpoint_url))
    elif not Path(path).is_file():
        raise SweepInputError(f"data file {path!r} does not exist")
    try:
        return pd.read_csv(source) if suffix == ".csv" else pd.read_parquet(source)
    except Exception as err:  # pandas raises many kinds for a file it cannot parse
        raise SweepInputError(f"data file {path!r} cannot be read: {err}".splitlines()[0]) from None


def _read_s3(uri: str, s3_client: Any, s3_endpoint_url: str | None) -> bytes:
    from tracking.artifacts.s3 import make_s3_client, split_s3_uri

    bucket, key = split_s3_uri(uri)
    client = s3_client or make_s3_client(s3_endpoint_url, max_attempts=3)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        raise SweepInputError(
            f"data file {uri!r} cannot be read from endpoint {client.meta.endpoint_url}: {code}"
        ) from None
    except BotoCoreError as err:
        raise SweepInputError(f"data file {uri!r} cannot be read: {err}") from None
