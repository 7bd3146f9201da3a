"""What a sweep is: `SweepSpec` and its parameter grid, parsed and checked before Ray starts."""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sweep.errors import SweepInputError
from sweep.policies import EarlyStop, parse_early_stop
from sweep.scoring import METRICS, PROBABILITY_METRICS, direction, metrics_for
from sweep.space import (
    Distribution,
    check_search,
    checked,
    literal,
    parse_distribution,
    sample_configs,
)

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
    """A validated sweep: a search space, what trains each of its cells, and how to run it.

    A cell is trained by the built-in trainable (a scikit-learn `estimator` fitted on
    `data`), by the user's `script` (run once per cell with the cell as `--name value`
    arguments, then `script_args`), or by the user's function `train(config)`; the last two
    log through `Run.get_context()` (`sweep.script`).

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
    search: str = "grid"  # "random" or "bayesian": `samples` cells drawn from the space
    samples: int | None = None
    mode: str = ""  # the metric's direction, "min" or "max"; "": the built-in metric's own
    script: str | None = None  # a training script's absolute path
    script_args: tuple[str, ...] = ()  # passed to the script after the cell's arguments
    train: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False)
    early_stop: EarlyStop | None = None
    fresh: bool = False  # train every cell, whatever earlier sweeps did (v1's submit)
    time_budget_s: float | None = None  # stop starting and running trials after this long

    def __post_init__(self) -> None:
        if not self.mode and self.metric in METRICS:
            object.__setattr__(self, "mode", direction(self.metric))

    @property
    def user_code(self) -> bool:
        """Whether the user's script or function trains the cells (not the estimator)."""
        return self.script is not None or self.train is not None

    @property
    def trainer(self) -> str:
        """What trains the cells, as recorded: the estimator's path, `script:<path> [args]`
        or `function:<module>.<name>`."""
        if self.script is not None:
            return " ".join(["script:" + self.script, *self.script_args])
        if self.train is not None:
            name = getattr(self.train, "__qualname__", type(self.train).__name__)
            return f"function:{getattr(self.train, '__module__', '?')}.{name}"
        return self.estimator

    @classmethod
    def create(
        cls,
        *,
        alphas: str | Sequence[Any] | None = None,
        params: Mapping[str, str | Sequence[Any] | Distribution] | None = None,
        **fields: Any,
    ) -> SweepSpec:
        """Check and build a spec; `alphas` and `params` values may be text as on the CLI,
        or (`params`) a distribution of `sweep.space`.

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
        check_search(search, grid, fields.get("samples"))
        if search == "grid":  # choice(a,b) in a grid is its values, as in HyperDrive
            grid = {k: v.args if isinstance(v, Distribution) else v for k, v in grid.items()}
        _check_trainer(fields)
        if fields.get("experiment") is None and (fields.get("script") or fields.get("train")):
            fields["experiment"] = _own_experiment(fields.get("script"), fields.get("train"))
        if isinstance(fields.get("early_stop"), str):
            fields["early_stop"] = parse_early_stop(fields["early_stop"])
        if fields.get("metric") is None and not (fields.get("script") or fields.get("train")):
            model = resolve_estimator(fields.get("estimator", DEFAULT_ESTIMATOR))()
            fields["metric"] = next(iter(metrics_for(model)))
        spec = cls(grid=tuple(grid.items()), **fields)
        spec._check()
        return spec

    def _check(self) -> None:
        if self.user_code:
            _check_user_metric(self.metric, self.mode)
        elif not isinstance(self.metric, str) or self.metric not in METRICS:
            raise SweepInputError(f"metric {self.metric!r} is not one of {', '.join(METRICS)}")
        elif self.mode not in ("", direction(self.metric)):
            raise SweepInputError(
                f"mode {self.mode!r} is not accepted with metric {self.metric!r}, which is "
                f"best at its {direction(self.metric)}imum: leave mode out"
            )
        self._check_early_stop()
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
        grid = self.search == "grid"
        cells = math.prod(len(v) for _, v in lists) if grid else self.samples
        if (cells or 0) > _MAX_CELLS:
            raise SweepInputError(f"the sweep has more than {_MAX_CELLS:,} cells")
        if not self.user_code:
            check_estimator_params(self.estimator, lists)
            check_metric(self.estimator, self.metric, lists)

    def _check_early_stop(self) -> None:
        if self.early_stop is None:
            return
        if not isinstance(self.early_stop, EarlyStop):
            raise SweepInputError(
                f"early_stop {self.early_stop!r} is not accepted: give its text, as "
                "'asha:grace=2', or a sweep.policies.EarlyStop"
            )
        if self.pack != 1:
            raise SweepInputError(
                f"pack {self.pack!r} is not accepted with early stopping, which needs one cell "
                "per trial: leave --pack out"
            )
        if not self.user_code:
            raise SweepInputError(
                f"early stop {self.early_stop.policy!r} needs metrics reported step by step, "
                "which the built-in trainable does not report (it fits each cell once): use it "
                "with --script or train="
            )

    @property
    def adaptive(self) -> bool:
        """Whether the cells are chosen as results arrive (a Bayesian search), so that they
        are not known before the sweep runs."""
        return self.search == "bayesian"

    def cells(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in grid order; for a random search, the
        `samples` cells its seed draws, in the order drawn (a sweep with more samples and
        the same seed begins with the same cells).

        Raises:
            SweepInputError: a Bayesian search, whose cells are chosen as it runs.
        """
        if self.adaptive:
            raise SweepInputError("a bayesian search's cells are chosen as it runs")
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
        match); for the user's code, the script and its arguments or the function instead
        of estimator and data."""
        return json.dumps({**self._key_base(), "params": dict(cell)}, sort_keys=True)

    def owns_key(self, key: str) -> bool:
        """Whether `key` is a cell key of this sweep's trainer, data and seed (any params)."""
        try:
            found = json.loads(key)
        except ValueError:
            return False
        return (
            isinstance(found, dict)
            and found.pop("params", None) is not None
            and found == (json.loads(json.dumps(self._key_base())))
        )

    def _key_base(self) -> dict[str, Any]:
        if self.user_code:
            return {"trainer": self.trainer, "seed": self.seed}
        return {
            "estimator": self.estimator,
            "data": self.data.path or "builtin:diabetes",
            "target": self.data.target,
            "test_size": self.data.test_size,
            "seed": self.seed,
            **({"cv": self.cv} if self.cv is not None else {}),
        }


_ESTIMATOR_FIELDS = ("estimator", "data", "cv")  # what only the built-in trainable uses


def _check_trainer(fields: dict[str, Any]) -> None:
    """Check `script`, `script_args` and `train` in `create`'s fields (the script made an
    absolute path); refuse the built-in trainable's own fields next to them."""
    script, train = fields.get("script"), fields.get("train")
    if script is not None and train is not None:
        raise SweepInputError("give a script or a train function, not both")
    if script is not None:
        if not isinstance(script, (str, os.PathLike)) or not os.path.isfile(script):
            raise SweepInputError(f"script {str(script)!r} does not exist (or is not a file)")
        fields["script"] = os.path.abspath(script)
    if train is not None and not callable(train):
        raise SweepInputError(f"train {train!r} is not accepted: give a function of a config")
    args = fields.get("script_args", ())
    if isinstance(args, str) or not all(isinstance(a, str) for a in args):
        raise SweepInputError(f"script_args {args!r} is not accepted: give a list of strings")
    if args and script is None:
        raise SweepInputError(f"script_args {list(args)!r} need a script")
    fields["script_args"] = tuple(args)
    if script is None and train is None:
        return
    given = [name for name in _ESTIMATOR_FIELDS if fields.get(name) is not None]
    if given:
        kind = "a script" if script is not None else "a train function"
        raise SweepInputError(
            f"{', '.join(given)} is not accepted with {kind}, which trains its cells itself "
            "(they are the built-in scikit-learn trainable's)"
        )
    if fields.get("metric") is None:
        raise SweepInputError(
            "a sweep of your own code needs metric: the name your code logs with run.log "
            "that picks the best run (and mode min or max)"
        )


def _own_experiment(script: str | None, train: Any) -> str:
    """A sweep of the user's code is its script's or function's experiment by default."""
    name = os.path.splitext(os.path.basename(script))[0] if script else train.__name__
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", str(name)).strip("-._") or "sweep"
    return name[:200]


def _check_user_metric(metric: Any, mode: str) -> None:
    if not isinstance(metric, str) or not metric.strip():
        raise SweepInputError(f"metric {metric!r} is not accepted: give the name your code logs")
    if mode not in ("min", "max"):
        shown = "(none)" if mode == "" else repr(mode)
        raise SweepInputError(
            f"mode {shown} is not accepted for metric {metric!r}: say whether its best is its "
            "min or its max (--mode min|max)"
        )


def _values(name: str, values: str | Sequence[Any] | Distribution, **checks: bool) -> Any:
    """A parameter's values: a distribution (`uniform(0,1)`, `choice(a,b)`, ...; see
    `sweep.space`) or grid values (`parse_values`)."""
    if isinstance(values, Distribution):
        return checked(name, values)
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
        check = _value_check(cls, name)
        for value in values:
            try:
                check(value)
            except (ValueError, TypeError) as err:
                raise SweepInputError(
                    f"{cls.__name__} refuses {name}={value!r}: {err}".splitlines()[0]
                ) from None


def _value_check(cls: type, name: str) -> Callable[[Any], None]:
    """What checks one value of parameter `name`: scikit-learn's constraint for that
    parameter alone where the class declares one (10,000 alphas in 0.02 s), else the
    estimator's own check of all its params, made with that value."""
    constraints = getattr(cls, "_parameter_constraints", None) or {}
    try:
        from sklearn.utils._param_validation import validate_parameter_constraints
    except ImportError:  # a scikit-learn that moved it: the estimator's own check
        constraints = {}
    if name in constraints:
        only = {name: constraints[name]}

        def check_one(value: Any) -> None:
            validate_parameter_constraints(only, {name: value}, caller_name=cls.__name__)

        return check_one

    def check_all(value: Any) -> None:
        validate = getattr(cls(**{name: value}), "_validate_params", None)
        if validate is not None:
            validate()

    return check_all


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
