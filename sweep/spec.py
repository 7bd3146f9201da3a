"""What a sweep is: `SweepSpec` and its parameter grid, parsed and checked before Ray starts."""

from __future__ import annotations

import importlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sweep.errors import SweepInputError
from sweep.scoring import METRICS, PROBABILITY_METRICS, direction, metrics_for
from sweep.space import Distribution, check_search, literal, parse_distribution, sample_configs

DEFAULT_ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
DEFAULT_ESTIMATOR = "sklearn.linear_model.Ridge"
_RANGE = re.compile(r"^\s*([^:]+):([^:]+):([^:]+)\s*$")
_MAX_CELLS = 1_000_000
AUTO_WAVES = 4  # trials per slot that `pack="auto"` aims for

Grid = tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class DataSpec:
    """Where the training data comes from. `path=None` is the tutorial's diabetes data."""

    path: str | None = None
    target: str | None = None
    test_size: float = 0.2


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: a grid of estimator parameters, the data, and how to run it.

    Build one with `SweepSpec.create(...)`, which checks every field and raises
    `SweepInputError` naming the bad value.
    """

    experiment: str = "diabetes-experiment"
    grid: Grid = (("alpha", DEFAULT_ALPHAS),)
    estimator: str = DEFAULT_ESTIMATOR
    metric: str = "rmse"
    data: DataSpec = field(default_factory=DataSpec)
    seed: int = 66
    config: str | None = None
    storage: str | None = None
    address: str | None = None
    max_concurrent: int | None = None
    cpus_per_trial: float = 1.0
    max_failures: int = 0
    resume: bool = False
    pack: int | str = 1  # grid cells per Tune trial, or "auto"
    cv: int | None = None  # K-fold cross-validation of each cell on the train part, or none
    search: str = "grid"  # or "random": `samples` cells drawn from the params' distributions
    samples: int | None = None

    @property
    def mode(self) -> str:
        """The metric's direction: "min" or "max" (see `sweep.scoring.METRICS`)."""
        return direction(self.metric)

    @classmethod
    def create(
        cls,
        *,
        alphas: str | Sequence[Any] | None = None,
        params: Mapping[str, str | Sequence[Any]] | None = None,
        **fields: Any,
    ) -> SweepSpec:
        """Check and build a spec; `alphas` and `params` values may be text as on the CLI.

        With neither `alphas` nor `params`, the grid is the tutorial's ten alphas. Without a
        `metric`, the estimator's kind picks it: rmse for a regressor, accuracy for a
        classifier.
        """
        unknown = sorted(set(fields) - set(cls.__dataclass_fields__) - {"grid"})
        if unknown:
            accepted = sorted(set(cls.__dataclass_fields__) - {"grid"} | {"alphas", "params"})
            raise SweepInputError(
                f"unknown sweep option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
            )
        grid: dict[str, Any] = {}
        if alphas is not None:
            grid["alpha"] = _values("alpha", alphas, numeric=True, non_negative=True)
        for name, values in (params or {}).items():
            if name in grid:
                raise SweepInputError(f"parameter {name!r} is given twice")
            grid[name] = _values(name, values)
        if not grid:
            grid["alpha"] = DEFAULT_ALPHAS
        search = fields.get("search", "grid")
        if search == "bayesian":
            raise SweepInputError(
                "search 'bayesian' is not on the command line yet (sweep.space has it for "
                "Tune's own Tuner): use --search grid or random"
            )
        check_search(search, grid, fields.get("samples"))
        if search == "grid":  # choice(a,b) in a grid is its values, as in HyperDrive
            grid = {k: v.args if isinstance(v, Distribution) else v for k, v in grid.items()}
        if fields.get("metric") is None:
            model = resolve_estimator(fields.get("estimator", DEFAULT_ESTIMATOR))()
            fields["metric"] = next(iter(metrics_for(model)))
        spec = cls(grid=tuple(grid.items()), **fields)
        spec._check()
        return spec

    def _check(self) -> None:
        if not isinstance(self.metric, str) or self.metric not in METRICS:
            raise SweepInputError(f"metric {self.metric!r} is not one of {', '.join(METRICS)}")
        from tracking.names import check_experiment_name

        try:
            check_experiment_name(self.experiment)
        except ValueError as err:
            raise SweepInputError(str(err)) from None
        _positive("max_concurrent", self.max_concurrent, allow_none=True)
        _positive("cpus_per_trial", self.cpus_per_trial)
        if not isinstance(self.max_failures, int) or self.max_failures < -1:
            raise SweepInputError(
                f"max_failures {self.max_failures!r} is not accepted: use an integer >= 0 "
                "(or -1 for unlimited retries)"
            )
        if self.pack != "auto" and (
            isinstance(self.pack, bool) or not isinstance(self.pack, int) or self.pack < 1
        ):
            raise SweepInputError(
                f"pack {self.pack!r} is not accepted: use an integer >= 1 (grid cells per "
                "trial) or 'auto'"
            )
        if self.cv is not None and (
            isinstance(self.cv, bool) or not isinstance(self.cv, int) or self.cv < 2
        ):
            raise SweepInputError(
                f"cv {self.cv!r} is not accepted: use an integer >= 2 (the folds of "
                "cross-validation), or none to score on the test part"
            )
        if not isinstance(self.seed, int):
            raise SweepInputError(f"seed {self.seed!r} is not an integer")
        if not 0 < self.data.test_size < 1:
            raise SweepInputError(f"test_size {self.data.test_size!r} must be between 0 and 1")
        lists = tuple((k, v) for k, v in self.grid if not isinstance(v, Distribution))
        cells = self.samples if self.search == "random" else math.prod(len(v) for _, v in lists)
        if (cells or 0) > _MAX_CELLS:
            raise SweepInputError(f"the sweep has more than {_MAX_CELLS:,} cells")
        check_estimator_params(self.estimator, lists)
        check_metric(self.estimator, self.metric, lists)

    def cells(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in grid order; for a random search, the
        `samples` cells its seed draws, in the order drawn (a sweep with more samples and
        the same seed begins with the same cells)."""
        if self.search == "random":
            return sample_configs(dict(self.grid), seed=self.seed, samples=int(self.samples or 0))
        names = [name for name, _ in self.grid]
        combos = itertools.product(*(values for _, values in self.grid))
        return [dict(zip(names, combo, strict=True)) for combo in combos]

    def pack_size(self, cells: int, slots: int) -> int:
        """How many grid cells each Tune trial trains, for `cells` cells on `slots` trial slots.

        'auto' gives every slot about `AUTO_WAVES` trials: few enough that Tune's cost per
        trial (tens of milliseconds) is paid a handful of times, not once per cell; enough
        that slots finishing early find work left, and that a retried trial repeats little.
        """
        if self.pack != "auto":
            return int(self.pack)
        return max(1, math.ceil(cells / (max(1, slots) * AUTO_WAVES)))

    def cell_key(self, cell: Mapping[str, Any]) -> str:
        """What identifies a cell's result across sweeps: estimator, data, seed, params and
        the folds of CV (named only when set, so keys written before `cv` existed still
        match)."""
        return json.dumps(
            {
                "estimator": self.estimator,
                "data": self.data.path or "builtin:diabetes",
                "target": self.data.target,
                "test_size": self.data.test_size,
                "seed": self.seed,
                "params": dict(cell),
                **({"cv": self.cv} if self.cv is not None else {}),
            },
            sort_keys=True,
        )


def _values(name: str, values: str | Sequence[Any], **checks: bool) -> Any:
    """A parameter's values: a distribution (`uniform(0,1)`, `choice(a,b)`, ...; see
    `sweep.space`) or grid values (`parse_values`)."""
    if isinstance(values, str) and (found := parse_distribution(name, values)) is not None:
        return found
    return parse_values(name, values, **checks)


def model_file_name(cell: Mapping[str, Any]) -> str:
    """`model_alpha_0.1.pkl` for {'alpha': 0.1}, as the tutorial names its models."""
    parts = [f"{name}_{value}" for name, value in cell.items()]
    return re.sub(r"[^A-Za-z0-9._-]", "-", "model_" + "_".join(parts)) + ".pkl"


def _positive(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SweepInputError(f"{name} {value!r} is not accepted: use a number greater than 0")


def _range(name: str, start: str, stop: str, step: str) -> tuple[float, ...]:
    try:
        a, b, s = float(start), float(stop), float(step)
    except ValueError:
        raise SweepInputError(
            f"{name} range {start}:{stop}:{step} is not accepted: "
            "start, stop and step must be numbers"
        ) from None
    if not all(math.isfinite(x) for x in (a, b, s)) or s <= 0 or b < a:
        raise SweepInputError(
            f"{name} range {start}:{stop}:{step} is not accepted: use start:stop:step with "
            "start <= stop and step > 0 (stop is included)"
        )
    count = math.floor((b - a) / s + 1e-9) + 1
    if count > _MAX_CELLS:
        raise SweepInputError(
            f"{name} range {start}:{stop}:{step} has more than {_MAX_CELLS:,} values"
        )
    # Rounded so that 0.1:1.0:0.1 gives 0.3, not 0.30000000000000004.
    return tuple(round(a + i * s, 12) for i in range(count))


def parse_values(
    name: str,
    values: str | Sequence[Any],
    *,
    numeric: bool = False,
    non_negative: bool = False,
) -> tuple[Any, ...]:
    """The values of one grid parameter: a comma list, `start:stop:step`, or a sequence.

    Raises:
        SweepInputError: the list is empty, has duplicates, or (for `numeric`) holds a value
            that is not a finite number (or, for `non_negative`, is below 0).
    """
    if isinstance(values, str):
        match = _RANGE.match(values)
        if match:
            parsed: tuple[Any, ...] = _range(name, *match.groups())
        else:
            parsed = tuple(literal(v) for v in values.split(",") if v.strip())
    elif isinstance(values, (list, tuple)):
        parsed = tuple(values)
    else:
        parsed = (values,)
    if not parsed:
        raise SweepInputError(f"the grid of {name!r} is empty: give at least one value")
    for value in parsed:
        if numeric and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise SweepInputError(
                f"{name} value {value!r} is not accepted: use finite numbers, as a comma list "
                "(0.1,0.5,1) or a range (0.1:1.0:0.1)"
            )
        if non_negative and value < 0:
            raise SweepInputError(f"{name} value {value!r} is not accepted: it must be >= 0")
    seen: set[str] = set()
    for value in parsed:
        key = json.dumps(value, sort_keys=True, default=str)
        if key in seen:
            raise SweepInputError(f"{name} value {value!r} appears more than once in the grid")
        seen.add(key)
    return parsed


def resolve_estimator(path: str) -> type:
    """The scikit-learn regressor or classifier class named by an import path or a bare
    class name.

    Raises:
        SweepInputError: nothing importable has that name, or it is neither a regressor
            nor a classifier.
    """
    from sklearn.base import is_classifier, is_regressor

    module_name, _, class_name = path.rpartition(".")
    found: Any = None
    if module_name:
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    else:
        from sklearn.utils import all_estimators

        found = dict(all_estimators(type_filter=["regressor", "classifier"])).get(path)
    if found is None or not isinstance(found, type):
        raise SweepInputError(
            f"estimator {path!r} was not found: give an import path such as "
            "sklearn.linear_model.Ridge, or a scikit-learn regressor's or classifier's class "
            "name such as Lasso or LogisticRegression"
        )
    try:
        model = found()
        usable = is_regressor(model) or is_classifier(model)
    except Exception:  # an estimator that cannot be built with defaults is unusable here
        usable = False
    if not usable:
        raise SweepInputError(f"estimator {path!r} is not a scikit-learn regressor or classifier")
    return found


def check_estimator_params(estimator: str, grid: Grid) -> None:
    """Fail early on a parameter the estimator does not have or a value it would refuse."""
    cls = resolve_estimator(estimator)
    known = cls().get_params()
    for name, values in grid:
        if name not in known:
            raise SweepInputError(
                f"{cls.__name__} has no parameter {name!r}; it has: {', '.join(sorted(known))}"
            )
        for value in values:
            model = cls(**{name: value})
            validate = getattr(model, "_validate_params", None)
            if validate is None:
                continue
            try:
                validate()
            except (ValueError, TypeError) as err:
                raise SweepInputError(
                    f"{cls.__name__} refuses {name}={value!r}: {err}".splitlines()[0]
                ) from None


def check_metric(estimator: str, metric: str, grid: Grid) -> None:
    """Refuse a metric that the estimator's cells would not report.

    A regressor reports the regression metrics, a classifier the classification ones
    (`sweep.scoring`); roc_auc and log_loss also need `predict_proba` in every cell, which
    some classifiers have only with some params (`SGDClassifier` only with
    `loss="log_loss"` or `"modified_huber"`).
    """
    from sklearn.base import is_classifier

    cls = resolve_estimator(estimator)
    accepted = metrics_for(cls())
    if metric not in accepted:
        kind = "a classifier" if is_classifier(cls()) else "a regressor"
        raise SweepInputError(
            f"metric {metric!r} does not apply to {cls.__name__}, {kind}: "
            f"use one of {', '.join(accepted)}"
        )
    if metric not in PROBABILITY_METRICS:
        return
    names = [name for name, _ in grid]
    for combo in itertools.product(*(values for _, values in grid)):
        cell = dict(zip(names, combo, strict=True))
        if not hasattr(cls(**cell), "predict_proba"):
            shown = ", ".join(f"{name}={value!r}" for name, value in cell.items())
            usable = [name for name in accepted if name not in PROBABILITY_METRICS]
            raise SweepInputError(
                f"metric {metric!r} needs predict_proba, which {cls.__name__}({shown}) does "
                f"not have: use one of {', '.join(usable)}, or params that give it"
            )
