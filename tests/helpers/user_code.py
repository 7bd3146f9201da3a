"""A Ray Tune user's own code, as tests of `TrackingCallback` in a user's `Tuner` use it.

Imported by Ray workers (the test session puts the repository on their PYTHONPATH).
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

from sklearn.linear_model import Ridge

EPOCHS = 20
CHECKPOINT_EVERY = 5


def train_sgd(config: dict[str, Any]) -> None:
    """SGDRegressor, one `partial_fit` per epoch; reports every epoch (nested `val`
    metrics), and a checkpoint holding the model every `CHECKPOINT_EVERY` epochs."""
    import joblib
    from ray import tune
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import SGDRegressor
    from sklearn.metrics import mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
    params = config["model"]
    model = SGDRegressor(alpha=params["alpha"], eta0=params["eta0"], random_state=0)
    for epoch in range(1, config.get("epochs", EPOCHS) + 1):
        model.partial_fit(X_train, y_train)
        predicted = model.predict(X_val)
        rmse = math.sqrt(mean_squared_error(y_val, predicted))
        metrics = {"rmse": rmse, "val": {"rmse": rmse, "r2": r2_score(y_val, predicted)}}
        if epoch % CHECKPOINT_EVERY == 0:
            with tempfile.TemporaryDirectory() as folder:
                joblib.dump(model, os.path.join(folder, "model.pkl"))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        else:
            tune.report(metrics)


class ChattyRidge(Ridge):
    """A Ridge that prints, from its Ray worker, the value of $SWEEP_TEST_MARK."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ChattyRidge:
        print(f"worker says: mark={os.environ.get('SWEEP_TEST_MARK')}", flush=True)
        return super().fit(X, y, sample_weight)
