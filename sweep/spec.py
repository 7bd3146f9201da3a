"""What a sweep is: `SweepSpec` and its parameter grid, parsed and checked before Ray starts."""

from __future__ import annotations

import ast
import importlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sweep.errors import SweepInputError

DEFAULT_ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
DEFAULT_ESTIMATOR = "sklearn.linear_model.Ridge"
METRICS = {"rmse": "min", "mae": "min", "r2": "max"}
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

    @property
    def mode(self) -> str:
        return METRICS[self.metric]

    @classmethod
    def create(
        cls,
        *,
        alphas: str | Sequence[Any] | None = None,
        params: Mapping[str, str | Sequence[Any]] | None = None,
        **fields: Any,
    ) -> SweepSpec:
        """Check and build a spec; `alphas` and `params` values may be text as on the CLI.

        With neither `alphas` nor `params`, the grid is the tutorial's ten alphas.
        """
        unknown = sorted(set(fields) - set(cls.__dataclass_fields__) - {"grid"})
        if unknown:
            accepted = sorted(set(cls.__dataclass_fields__) - {"grid"} | {"alphas", "params"})
            raise SweepInputError(
                f"unknown sweep option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
            )
        grid: dict[str, tuple[Any, ...]] = {}
        if alphas is not None:
            grid["alpha"] = parse_values("alpha", alphas, numeric=True, non_negative=True)
        for name, values in (params or {}).items():
            if name in grid:
                raise SweepInputError(f"parameter {name!r} is given twice")
            grid[name] = parse_values(name, values)
        if not grid:
            grid["alpha"] = DEFAULT_ALPHAS
        spec = cls(grid=tuple(grid.items()), **fields)
        spec._check()
        return spec

    def _check(self) -> None:
        if self.metric not in METRICS:
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
        if not isinstance(self.seed, int):
            raise SweepInputError(f"seed {self.seed!r} is not an integer")
        if not 0 < self.data.test_size < 1:
            raise SweepInputError(f"test_size {self.data.test_size!r} must be between 0 and 1")
        if math.prod(len(values) for _, values in self.grid) > _MAX_CELLS:
            raise SweepInputError(f"the grid has more than {_MAX_CELLS:,} cells")
        check_estimator_params(self.estimator, self.grid)

    def cells(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in grid order."""
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
        """What identifies a cell's result across sweeps: estimator, data, seed and params."""
        return json.dumps(
            {
                "estimator": self.estimator,
                "data": self.data.path or "builtin:diabetes",
                "target": self.data.target,
                "test_size": self.data.test_size,
                "seed": self.seed,
                "params": dict(cell),
            },
            sort_keys=True,
        )


def model_file_name(cell: Mapping[str, Any]) -> str:
    """`model_alpha_0.1.pkl` for {'alpha': 0.1}, as the tutorial names its models."""
    parts = [f"{name}_{value}" for name, value in cell.items()]
    return re.sub(r"[^A-Za-z0-9._-]", "-", "model_" + "_".join(parts)) + ".pkl"


def _positive(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SweepInputError(f"{name} {value!r} is not accepted: use a number greater than 0")


def _literal(text: str) -> Any:
    """'0.1' -> 0.1, 'true' -> True, 'none' -> None, anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


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
            parsed = tuple(_literal(v) for v in values.split(",") if v.strip())
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
    """The scikit-learn regressor class named by an import path or a bare class name.

    Raises:
        SweepInputError: nothing importable has that name, or it is not a regressor.
    """
    from sklearn.base import is_regressor

    module_name, _, class_name = path.rpartition(".")
    found: Any = None
    if module_name:
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    else:
        from sklearn.utils import all_estimators

        found = dict(all_estimators(type_filter="regressor")).get(path)
    if found is None or not isinstance(found, type):
        raise SweepInputError(
            f"estimator {path!r} was not found: give an import path such as "
            "sklearn.linear_model.Ridge, or a scikit-learn regressor's class name such as Lasso"
        )
    try:
        regressor = is_regressor(found())
    except Exception:  # an estimator that cannot be built with defaults is unusable here
        regressor = False
    if not regressor:
        raise SweepInputError(f"estimator {path!r} is not a scikit-learn regressor")
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
