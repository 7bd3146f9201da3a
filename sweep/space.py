"""Random and Bayesian search spaces: distributions parsed from text, checked, and turned into
Ray Tune search algorithms.

`--param alpha=loguniform(1e-4,1)` is parsed here (`parse_distribution`); anything that is
not a distribution call stays a grid value list, parsed by `sweep.spec.parse_values`.
`check_search` holds the rules between the search kind, the space and `samples`, so that bad
input fails before Ray starts; `searcher` builds what a `tune.Tuner` needs.
"""

from __future__ import annotations

import ast
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from sweep.errors import SweepInputError

if TYPE_CHECKING:
    from ray.tune.search import SearchAlgorithm, Searcher
    from ray.tune.search.sample import Domain

SEARCHES = ("grid", "random", "bayesian")

# How each distribution is written; its arguments' meaning follows Ray Tune (and HyperDrive,
# except loguniform, whose bounds here are the values themselves, not their logarithms).
_FORMS = {
    "choice": "choice(a,b,...)",
    "uniform": "uniform(lo,hi)",
    "loguniform": "loguniform(lo,hi)",
    "quniform": "quniform(lo,hi,q)",
    "randint": "randint(hi) or randint(lo,hi)",
    "normal": "normal(mu,sigma)",
}
_ARITY = {"uniform": 2, "loguniform": 2, "quniform": 3, "randint": 2, "normal": 2}
# What Tune's OptunaSearch can convert to Optuna distributions: not Tune's randn.
_BAYESIAN_KINDS = ("choice", "uniform", "loguniform", "quniform", "randint")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\((.*)\)", re.DOTALL)


@dataclass(frozen=True)
class Distribution:
    """One parameter's distribution, e.g. `Distribution("uniform", (0.0, 1.0))`.

    `args` are as written, except that `randint(hi)` is kept as `randint(0, hi)`; for
    `choice`, `args` are its values (which is what a grid search enumerates).
    """

    kind: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(repr(a) for a in self.args)})"

    def to_tune(self) -> Domain:
        """The matching Ray Tune search domain (`tune.choice`, `tune.uniform`, ...)."""
        from ray import tune

        if self.kind == "choice":
            return tune.choice(list(self.args))
        make: dict[str, Callable[..., Domain]] = {
            "uniform": tune.uniform,
            "loguniform": tune.loguniform,
            "quniform": tune.quniform,
            "randint": tune.randint,  # lo inclusive, hi exclusive, as HyperDrive's randint
            "normal": tune.randn,
        }
        return make[self.kind](*self.args)


Space = Mapping[str, Distribution | tuple[Any, ...]]
Done = Iterable[tuple[Mapping[str, Any], float]]


def literal(text: str) -> Any:
    """'0.1' -> 0.1, 'true' -> True, 'none' -> None, anything else stays text.

    The rule for grid values (`sweep.spec`) and `choice(...)` alike.
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def parse_distribution(name: str, text: str) -> Distribution | None:
    """The distribution that `text` calls for, or None when `text` is no call (a value list).

    Any `word(...)` is a call; arguments are split on commas and read by `literal`.

    Raises:
        SweepInputError: an unknown distribution, the wrong number of arguments, text where
            numbers are needed, lo >= hi, a loguniform lo <= 0, q or sigma <= 0, quniform
            bounds that are not multiples of q, randint bounds that are not integers, or
            choice values that are empty, repeated or not numbers, text, True/False/None.
    """
    match = _CALL.fullmatch(text.strip())
    if match is None:
        return None
    kind, inner = match.groups()
    args = tuple(literal(piece) for piece in inner.split(",") if piece.strip())
    if kind == "randint" and len(args) == 1:
        args = (0, *args)
    problem = _problem(kind, args)
    if problem:
        raise SweepInputError(f"{name} {text.strip()!r} is not accepted: {problem}")
    return Distribution(kind, args)


def checked(name: str, distribution: Distribution) -> Distribution:
    """`distribution` (made in code, as `sweep.hyperdrive.uniform(0, 1)`), checked as
    `parse_distribution` checks text.

    Raises:
        SweepInputError: what `parse_distribution` refuses.
    """
    problem = _problem(distribution.kind, distribution.args)
    if problem:
        raise SweepInputError(f"{name} {str(distribution)!r} is not accepted: {problem}")
    return distribution


def _problem(kind: str, args: tuple[Any, ...]) -> str | None:
    """What is wrong with `kind(*args)`, in a few words, or None."""
    if kind not in _FORMS:
        return (
            f"{kind!r} is not a distribution; use {', '.join(_FORMS.values())}, or a list of values"
        )
    form = _FORMS[kind]
    if kind == "choice":
        return _choice_problem(form, args)
    if len(args) != _ARITY[kind]:
        return f"use {form}"
    if not all(_is_number(a) for a in args):
        return f"{form} takes finite numbers"
    if kind == "randint" and not all(isinstance(a, int) for a in args):
        return f"{form} takes integers"
    if kind == "normal":
        return None if args[1] > 0 else f"{form} needs sigma > 0"
    lo, hi = args[0], args[1]
    if not lo < hi:
        return f"{form} needs lo < hi"
    if kind == "loguniform" and lo <= 0:
        return f"{form} needs lo > 0"
    if kind == "quniform":
        q = args[2]
        if q <= 0:
            return f"{form} needs q > 0"
        # Tune draws multiples of q, and (as Optuna, for bayesian) needs bounds that are.
        if not all(math.isclose(x / q, round(x / q)) for x in (lo, hi)):
            return f"{form} needs lo and hi to be multiples of q"
    return None


def _choice_problem(form: str, values: tuple[Any, ...]) -> str | None:
    if not values:
        return f"{form} needs at least one value"
    seen: set[str] = set()
    for value in values:
        if value is not None and not isinstance(value, (str, int, float)):
            return f"{form} takes numbers, text, True, False or None, not {value!r}"
        key = json.dumps(value)
        if key in seen:
            return f"{form} lists {value!r} more than once"
        seen.add(key)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_search(search: str, space: Space, samples: int | None) -> None:
    """Check a search kind against its space and sample count, before Ray starts.

    `space` maps each parameter to a `Distribution` or to a tuple of grid values. A grid
    enumerates value tuples and `choice(...)` (its values, as HyperDrive's grid sampling
    accepts only choice); random and Bayesian searches draw `samples` configs, taking a value
    tuple as a choice among its values.

    Raises:
        SweepInputError: `search` is not grid, random or bayesian; `samples` is given for a
            grid, or is not an integer >= 1 for random and bayesian; a grid holds a
            distribution other than choice; a Bayesian space holds one that Tune's Optuna
            searcher cannot handle (normal); optuna is not installed for bayesian.
    """
    if search not in SEARCHES:
        raise SweepInputError(f"search {search!r} is not one of {', '.join(SEARCHES)}")
    distributions = {n: d for n, d in space.items() if isinstance(d, Distribution)}
    if search == "grid":
        if samples is not None:
            raise SweepInputError(
                f"samples {samples!r} is not accepted with the grid search, which trains each "
                "of its cells once; use a random search to draw samples"
            )
        for name, dist in distributions.items():
            if dist.kind != "choice":
                raise SweepInputError(
                    f"{name} {str(dist)!r} is not accepted with the grid search, which needs "
                    "values: give a list (a,b,c), start:stop:step or choice(a,b,...), or use "
                    "search random or bayesian"
                )
        return
    if samples is None:
        raise SweepInputError(f"the {search} search needs samples: how many cells to draw")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SweepInputError(
            f"samples {samples!r} is not accepted: the {search} search needs samples, "
            "an integer >= 1"
        )
    if search == "bayesian":
        for name, dist in distributions.items():
            if dist.kind not in _BAYESIAN_KINDS:
                raise SweepInputError(
                    f"{name} {str(dist)!r} is not accepted with the bayesian search: Tune's "
                    f"Optuna searcher takes {', '.join(_BAYESIAN_KINDS)}; use search random"
                )
        if find_spec("optuna") is None:
            raise SweepInputError(
                "the bayesian search needs optuna: pip install 'raysweep[bayesian]'"
            )


def sample_configs(space: Space, *, seed: int, samples: int) -> list[dict[str, Any]]:
    """The first `samples` configs of the random search with this `seed`, in order.

    Each parameter draws its values, one config after the other, from its own numpy stream
    seeded by (seed, parameter name) through Tune's domain samplers. So the first N configs
    of M > N are the N configs, and a parameter's values do not change when other parameters
    are added, removed or reordered.
    """
    import numpy as np

    columns = []
    for name, value in space.items():
        domain = _domain(value)
        rng = np.random.default_rng([_entropy(seed), zlib.crc32(name.encode())])
        columns.append([domain.sample(random_state=rng) for _ in range(samples)])
    return [dict(zip(space, row, strict=True)) for row in zip(*columns, strict=True)]


def searcher(
    search: str,
    space: Space,
    *,
    metric: str,
    mode: str,
    seed: int,
    samples: int,
    done: Done = (),
) -> tuple[SearchAlgorithm | Searcher, dict[str, Any], int]:
    """A Tune search algorithm for a random or Bayesian search, extending the `done` trials.

    `done` holds the (config, metric value) pairs that an earlier sweep of this same space
    and seed completed; the result's `num_samples` counts only what is left to run (0: none).

    - random: `sample_configs` draws all `samples` configs; those in `done` (as a multiset,
      by their values for this space's parameters) are skipped and the rest run through
      `BasicVariantGenerator(points_to_evaluate=...)`. The same seed gives the same configs,
      and raising `samples` runs only the new ones.
    - bayesian: `OptunaSearch` with a TPE sampler, told the `done` results as completed
      trials (its warm start), draws `samples - len(done)` more. The sampler's seed comes
      from (seed, len(done)): a fresh sampler seeded as the first sweep's would redraw that
      sweep's random start. Draws repeat with the seed while TPE samples at random (its
      first 10 trials); after that, they depend on the order results arrive in, so they
      repeat only when trials run one at a time.

    Returns:
        (search_alg, param_space, num_samples) for `tune.TuneConfig` and `tune.Tuner`.

    Raises:
        SweepInputError: what `check_search` refuses; a grid, which runs its cells without
            a search algorithm, among them.
        KeyError, ValueError: a `done` config lacks a parameter of the space, or (bayesian,
            from Optuna) holds a value outside it: `done` is not from this space.
    """
    check_search(search, space, samples)  # refuses a grid too: it takes no samples
    done = list(done)
    if search == "random":
        return _random(space, seed, samples, done)
    return _bayesian(space, metric, mode, seed, samples, done)


def _random(
    space: Space, seed: int, samples: int, done: list[tuple[Mapping[str, Any], float]]
) -> tuple[SearchAlgorithm, dict[str, Any], int]:
    from ray.tune.search.basic_variant import BasicVariantGenerator

    def key(config: Mapping[str, Any]) -> str:
        return json.dumps([config[name] for name in space])

    left = Counter(key(config) for config, _ in done)
    todo = []
    for config in sample_configs(space, seed=seed, samples=samples):
        if left[key(config)] > 0:
            left[key(config)] -= 1
        else:
            todo.append(config)
    # Tune needs every preset point's keys in the param space (and checks values there).
    param_space = {name: _domain(value) for name, value in space.items()}
    return BasicVariantGenerator(points_to_evaluate=todo), param_space, len(todo)


def _bayesian(
    space: Space,
    metric: str,
    mode: str,
    seed: int,
    samples: int,
    done: list[tuple[Mapping[str, Any], float]],
) -> tuple[Searcher, dict[str, Any], int]:
    import numpy as np
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    domains = {name: _domain(value) for name, value in space.items()}
    sampler_seed = int(np.random.SeedSequence([_entropy(seed), len(done)]).generate_state(1)[0])
    alg = OptunaSearch(
        # Converted here, not by Tune from the param space, so that the study (and its warm
        # start) is set up now, and a done point outside the space fails before Tune runs.
        OptunaSearch.convert_search_space(domains),
        metric=metric,
        mode=mode,
        sampler=optuna.samplers.TPESampler(seed=sampler_seed),
        points_to_evaluate=[{name: config[name] for name in space} for config, _ in done],
        evaluated_rewards=[value for _, value in done],
    )
    return alg, {}, max(0, samples - len(done))


def _domain(value: Distribution | tuple[Any, ...]) -> Domain:
    if isinstance(value, Distribution):
        return value.to_tune()
    from ray import tune

    return tune.choice(list(value))


def _entropy(seed: int) -> int:
    """A seed as numpy's seeding takes it: >= 0 (a negative seed wraps around 2**64)."""
    return seed % 2**64
