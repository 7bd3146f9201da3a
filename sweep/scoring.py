"""How a fitted scikit-learn model is scored: its metrics, their directions, K-fold CV.

`is_classifier` decides the metrics: a regressor gets rmse, mae and r2; a classifier gets
accuracy and macro F1, plus roc_auc and log_loss when it has `predict_proba`. Every metric's
direction is known here, so choosing one (`--metric accuracy`) also says whether the best
run has its highest or lowest value. scikit-learn is imported only when a model is scored.
"""

from __future__ import annotations

import math
from typing import Any

REGRESSION_METRICS = {"rmse": "min", "mae": "min", "r2": "max"}
CLASSIFICATION_METRICS = {"accuracy": "max", "f1_macro": "max", "roc_auc": "max", "log_loss": "min"}
METRICS = {**REGRESSION_METRICS, **CLASSIFICATION_METRICS}  # name -> "min" | "max"
PROBABILITY_METRICS = frozenset({"roc_auc", "log_loss"})  # only with `predict_proba`
STD_SUFFIX = "_std"  # K-fold CV: `<metric>` is the folds' mean, `<metric>_std` their spread


def metrics_for(estimator: Any) -> dict[str, str]:
    """The metrics (name -> direction) that `score` gives for `estimator`, fitted or not."""
    from sklearn.base import is_classifier

    return CLASSIFICATION_METRICS if is_classifier(estimator) else REGRESSION_METRICS


def direction(metric: str) -> str:
    """Whether a lower ("min") or higher ("max") value of `metric` is better.

    A CV standard deviation (`accuracy_std`, ...) is "min": a steadier score is better.

    Raises:
        ValueError: `metric` is not one that `score` or `cross_validate` reports.
    """
    if metric in METRICS:
        return METRICS[metric]
    if metric.endswith(STD_SUFFIX) and metric.removesuffix(STD_SUFFIX) in METRICS:
        return "min"
    raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)} (or their _std)")


def score(model: Any, X: Any, y: Any) -> dict[str, float]:
    """The metrics of a fitted `model` on the rows `X` with true targets `y`.

    A classifier's roc_auc is, for two classes, that of its `classes_[1]` column of
    `predict_proba`; for more, the macro average of one-vs-rest AUCs. roc_auc and log_loss
    are left out for a classifier without `predict_proba` (`SVC()`, or `SGDClassifier`
    with its default hinge loss), rather than estimated from something else.
    """
    from sklearn.base import is_classifier

    if is_classifier(model):
        return _classification(model, X, y)
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    predicted = model.predict(X)
    return {
        "rmse": math.sqrt(mean_squared_error(y, predicted)),
        "mae": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
    }


def _classification(model: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    predicted = model.predict(X)
    metrics = {
        "accuracy": float(accuracy_score(y, predicted)),
        # A class never predicted counts as an F1 of 0, as scikit-learn's default does,
        # without its warning in every worker's log.
        "f1_macro": float(f1_score(y, predicted, average="macro", zero_division=0)),
    }
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        classes = model.classes_
        if len(classes) == 2:
            auc = roc_auc_score(y == classes[1], proba[:, 1])
        else:
            auc = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
        metrics["roc_auc"] = float(auc)
        metrics["log_loss"] = float(log_loss(y, proba, labels=classes))
    return metrics


def cross_validate(model: Any, X: Any, y: Any, *, folds: int, seed: int) -> dict[str, float]:
    """Score an unfitted `model` by K-fold cross-validation over the rows `X`, `y`.

    The rows are shuffled with `seed` into `folds` folds (stratified by class for a
    classifier), so every cell of a sweep is scored on the same folds. Each fold fits a
    clone of `model` on the other folds and scores it on its own; `model` itself is not
    fitted.

    Returns:
        For each metric of `score`, `<metric>`: the folds' mean, and `<metric>_std`: their
        standard deviation (over the folds, ddof=0, as scikit-learn's `cv_results_` has it).
    """
    import numpy as np
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import KFold, StratifiedKFold

    kind = StratifiedKFold if is_classifier(model) else KFold
    splitter = kind(n_splits=folds, shuffle=True, random_state=seed)
    scores = [
        score(clone(model).fit(X[train], y[train]), X[test], y[test])
        for train, test in splitter.split(X, y)
    ]
    metrics: dict[str, float] = {}
    for name in scores[0]:
        values = [fold[name] for fold in scores]
        metrics[name] = float(np.mean(values))
        metrics[name + STD_SUFFIX] = float(np.std(values))
    return metrics
