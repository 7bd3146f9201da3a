"""Scoring a cell: a regressor's and a classifier's metrics, their directions, K-fold CV,
and the spec's checks of `metric` and `cv`. No Ray: these run in a few seconds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.preprocessing import scale
from sklearn.svm import SVC

from sweep import SweepInputError, SweepSpec
from sweep.data import load_dataset
from sweep.scoring import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    cross_validate,
    direction,
    score,
)
from sweep.spec import DataSpec
from sweep.trainable import fit_cell

# Scaled, so that a logistic fit converges in a few iterations.
IRIS = scale(load_iris().data), load_iris().target  # 3 classes
CANCER = scale(load_breast_cancer().data), load_breast_cancer().target  # 2 classes
LOGISTIC = "sklearn.linear_model.LogisticRegression"


def _fitted(model: Any, data: tuple[Any, Any]) -> Any:
    return model.fit(*data)


def test_a_regressor_gets_rmse_mae_and_r2() -> None:
    X, y = CANCER
    assert list(score(_fitted(Ridge(), CANCER), X, y)) == ["rmse", "mae", "r2"]


@pytest.mark.parametrize("data", [IRIS, CANCER], ids=["multiclass", "binary"])
def test_a_classifier_with_predict_proba_gets_every_classification_metric(
    data: tuple[Any, Any],
) -> None:
    model = _fitted(LogisticRegression(max_iter=1000), data)
    metrics = score(model, *data)
    assert list(metrics) == list(CLASSIFICATION_METRICS)
    assert 0.9 < metrics["accuracy"] <= 1 and 0.9 < metrics["f1_macro"] <= 1
    assert 0.95 < metrics["roc_auc"] <= 1 and 0 < metrics["log_loss"] < 0.5


def test_without_predict_proba_there_is_no_roc_auc_nor_log_loss() -> None:
    X, y = IRIS
    assert list(score(_fitted(SVC(), IRIS), X, y)) == ["accuracy", "f1_macro"]
    assert list(score(_fitted(SGDClassifier(random_state=0), IRIS), X, y)) == [
        "accuracy",
        "f1_macro",
    ]
    with_proba = score(_fitted(SGDClassifier(loss="log_loss", random_state=0), IRIS), X, y)
    assert list(with_proba) == list(CLASSIFICATION_METRICS)


def test_binary_roc_auc_scores_the_second_class_column_even_for_text_labels() -> None:
    X, y = CANCER
    labels = np.array(["malignant", "benign"])[y]  # classes_ sorted: benign, malignant
    model = _fitted(LogisticRegression(), (X, labels))
    as_numbers = score(_fitted(LogisticRegression(), CANCER), X, y)
    assert score(model, X, labels)["roc_auc"] == pytest.approx(as_numbers["roc_auc"])


def test_every_metric_and_its_std_has_a_direction() -> None:
    assert {m: direction(m) for m in CLASSIFICATION_METRICS} == {
        "accuracy": "max",
        "f1_macro": "max",
        "roc_auc": "max",
        "log_loss": "min",
    }
    assert {m: direction(m) for m in REGRESSION_METRICS} == {
        "rmse": "min",
        "mae": "min",
        "r2": "max",
    }
    assert direction("accuracy_std") == direction("r2_std") == "min"
    with pytest.raises(ValueError, match="metric 'precision' is not one of"):
        direction("precision")


def test_cross_validation_gives_each_metrics_mean_and_std() -> None:
    metrics = cross_validate(LogisticRegression(max_iter=1000), *IRIS, folds=5, seed=1)
    assert set(metrics) == {
        name + suffix for name in CLASSIFICATION_METRICS for suffix in ("", "_std")
    }
    assert all(metrics[f"{name}_std"] >= 0 for name in CLASSIFICATION_METRICS)
    assert 0.9 < metrics["accuracy"] <= 1


def test_cross_validation_folds_follow_the_seed() -> None:
    X, y = CANCER[0][:, :3], CANCER[1]  # 3 features: a fit that the folds change

    def mean(seed: int) -> float:
        return cross_validate(Ridge(), X, y, folds=4, seed=seed)["rmse"]

    assert mean(3) == mean(3)
    assert mean(3) != mean(4)


def test_a_regressor_is_cross_validated_on_unstratified_folds() -> None:
    metrics = cross_validate(Ridge(), *CANCER, folds=3, seed=0)
    assert set(metrics) == {"rmse", "rmse_std", "mae", "mae_std", "r2", "r2_std"}


def test_a_classification_spec_by_accuracy_maximises() -> None:
    spec = SweepSpec.create(estimator=LOGISTIC, params={"C": "0.1,1"}, metric="accuracy")
    assert spec.mode == "max"
    assert SweepSpec.create(estimator="LogisticRegression", params={"C": "1"}).metric == (
        "accuracy"
    )
    assert SweepSpec.create(metric="log_loss", estimator=LOGISTIC, params={"C": "1"}).mode == (
        "min"
    )
    assert SweepSpec.create().metric == "rmse"  # a regressor's default, as before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"metric": "accuracy"},
            "metric 'accuracy' does not apply to Ridge, a regressor: use one of rmse, mae, r2",
        ),
        (
            {"metric": "rmse", "estimator": LOGISTIC, "params": {"C": "1"}},
            "metric 'rmse' does not apply to LogisticRegression, a classifier: use one of "
            "accuracy, f1_macro, roc_auc, log_loss",
        ),
        (
            {
                "metric": "roc_auc",
                "estimator": "SGDClassifier",
                "params": {"loss": "log_loss,hinge"},
            },
            "metric 'roc_auc' needs predict_proba, which SGDClassifier(loss='hinge') does not "
            "have: use one of accuracy, f1_macro, or params that give it",
        ),
        ({"cv": 1}, "cv 1 is not accepted: use an integer >= 2"),
        ({"cv": "5"}, "cv '5' is not accepted: use an integer >= 2"),
        ({"cv": True}, "cv True is not accepted: use an integer >= 2"),
    ],
    ids=["accuracy-ridge", "rmse-logistic", "roc_auc-hinge", "cv-1", "cv-text", "cv-bool"],
)
def test_a_metric_or_cv_that_does_not_fit_is_refused_in_one_line(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SweepInputError) as caught:
        SweepSpec.create(**options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_cv_changes_a_cells_key_and_no_cv_keeps_the_old_one() -> None:
    plain, folded = SweepSpec.create(), SweepSpec.create(cv=5)
    cell = {"alpha": 0.1}
    assert '"cv"' not in plain.cell_key(cell)
    assert plain.cell_key(cell) != folded.cell_key(cell)


def test_fit_cell_classifies_iris_by_accuracy() -> None:
    data = load_dataset(DataSpec(path="sklearn:iris"), seed=66)
    model, metrics = fit_cell({"C": 1.0, "max_iter": 1000}, data, LOGISTIC, seed=66)
    assert list(metrics) == list(CLASSIFICATION_METRICS)
    assert metrics["accuracy"] > 0.9
    assert model.predict(data.X_test).shape == data.y_test.shape


def test_fit_cell_with_cv_reports_means_and_stds_and_keeps_a_fitted_model() -> None:
    data = load_dataset(DataSpec(path="sklearn:breast_cancer"), seed=66)
    # liblinear: lbfgs takes seconds on these unscaled features.
    cell = {"C": 1.0, "solver": "liblinear"}
    model, metrics = fit_cell(cell, data, LOGISTIC, seed=66, cv=5)
    assert {"accuracy", "accuracy_std", "roc_auc_std", "log_loss"} <= set(metrics)
    assert model.score(data.X_test, data.y_test) > 0.9  # refitted on the whole train part


def test_fit_cell_of_a_ridge_alpha_is_as_before() -> None:
    data = load_dataset(DataSpec(), seed=66)
    _, metrics = fit_cell({"alpha": 0.1}, data, "sklearn.linear_model.Ridge", seed=66)
    model = Ridge(alpha=0.1).fit(data.X_train, data.y_train)
    predicted = model.predict(data.X_test)
    rmse = float(np.sqrt(np.mean((data.y_test - predicted) ** 2)))
    assert list(metrics) == ["alpha_value", "rmse", "mae", "r2"]
    assert metrics["alpha_value"] == 0.1 and metrics["rmse"] == pytest.approx(rmse)


def test_builtin_data_sets_by_name() -> None:
    iris = load_dataset(DataSpec(path="sklearn:iris"), seed=66)
    assert iris.rows == 150 and len(iris.features) == 4
    assert set(np.unique(iris.y_train)) == {0.0, 1.0, 2.0}
    with pytest.raises(SweepInputError, match="use one of sklearn:diabetes, sklearn:iris"):
        load_dataset(DataSpec(path="sklearn:mnist"), seed=66)


def test_a_csv_with_text_labels_keeps_them(tmp_path: Any) -> None:
    frame = load_iris(as_frame=True).frame
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame.pop("target")]
    frame.to_csv(tmp_path / "iris.csv", index=False)
    data = load_dataset(DataSpec(path=str(tmp_path / "iris.csv"), target="species"), seed=66)
    assert set(data.y_train) == {"setosa", "versicolor", "virginica"}
    _, metrics = fit_cell({"max_iter": 1000}, data, LOGISTIC, seed=66, cv=3)
    assert metrics["accuracy"] > 0.9
