"""Random and Bayesian search spaces (sweep.space): parsing, the cross-field rules, and real
Tune fits that show seeded sampling, extension and the Bayesian warm start."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from sweep.errors import SweepInputError
from sweep.space import (
    Distribution,
    Space,
    check_search,
    parse_distribution,
    sample_configs,
    searcher,
)

SEED = 7
SPACE: Space = {
    "x": Distribution("uniform", (0.0, 1.0)),
    "k": Distribution("randint", (0, 3)),
    "solver": ("auto", "svd"),  # a value list: a choice for random and bayesian
}
FIRST, MORE = 6, 8  # samples of a sweep, and of its extension

Done = list[tuple[dict[str, Any], float]]


@pytest.mark.parametrize(
    ("text", "kind", "args"),
    [
        ("choice(auto, 'svd', 1, 2.5, true, none)", "choice", ("auto", "svd", 1, 2.5, True, None)),
        ("uniform(0, 1)", "uniform", (0, 1)),
        (" uniform( -1.5 , 2e-1 ) ", "uniform", (-1.5, 0.2)),
        ("loguniform(1e-4,1)", "loguniform", (0.0001, 1)),
        ("quniform(0,1,0.1)", "quniform", (0, 1, 0.1)),
        ("randint(5)", "randint", (0, 5)),
        ("randint(-2,3)", "randint", (-2, 3)),
        ("normal(0,0.5)", "normal", (0, 0.5)),
    ],
)
def test_each_distribution_form_is_parsed(text: str, kind: str, args: tuple[Any, ...]) -> None:
    assert parse_distribution("alpha", text) == Distribution(kind, args)


@pytest.mark.parametrize("text", ["0.1,0.5,1", "0.1:1.0:0.1", "auto", "choice", "true"])
def test_text_that_is_not_a_call_is_left_to_the_grid(text: str) -> None:
    assert parse_distribution("alpha", text) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("gauss(0,1)", "'gauss' is not a distribution; use choice(a,b,...), uniform(lo,hi)"),
        ("uniform(0)", "use uniform(lo,hi)"),
        ("quniform(0,1)", "use quniform(lo,hi,q)"),
        ("randint()", "use randint(hi) or randint(lo,hi)"),
        ("uniform(low,1)", "uniform(lo,hi) takes finite numbers"),
        ("uniform(0,inf)", "uniform(lo,hi) takes finite numbers"),
        ("normal(true,1)", "normal(mu,sigma) takes finite numbers"),
        ("uniform(1,1)", "uniform(lo,hi) needs lo < hi"),
        ("loguniform(0,1)", "loguniform(lo,hi) needs lo > 0"),
        ("quniform(0,1,0)", "quniform(lo,hi,q) needs q > 0"),
        ("quniform(0.05,1,0.1)", "quniform(lo,hi,q) needs lo and hi to be multiples of q"),
        ("randint(2.5)", "randint(hi) or randint(lo,hi) takes integers"),
        ("randint(0)", "randint(hi) or randint(lo,hi) needs lo < hi"),
        ("normal(0,-1)", "normal(mu,sigma) needs sigma > 0"),
        ("choice()", "choice(a,b,...) needs at least one value"),
        ("choice(a,b,a)", "choice(a,b,...) lists 'a' more than once"),
        ("choice({1:2})", "choice(a,b,...) takes numbers, text, True, False or None, not {1: 2}"),
    ],
)
def test_bad_distributions_are_refused_in_one_line_naming_them(text: str, says: str) -> None:
    with pytest.raises(SweepInputError) as caught:
        parse_distribution("alpha", text)
    message = str(caught.value)
    assert message.startswith(f"alpha {text!r} is not accepted: ")
    assert says in message
    assert "\n" not in message


def test_each_distribution_becomes_the_matching_tune_domain() -> None:
    """Tune's own samplers draw inside the bounds (randint's hi excluded, quniform on q)."""
    import numpy as np

    rng = np.random.default_rng(SEED)

    def draws(text: str) -> list[Any]:
        dist = parse_distribution("p", text)
        assert dist is not None
        domain = dist.to_tune()
        return [domain.sample(random_state=rng) for _ in range(200)]

    assert set(draws("choice(a,1,none)")) == {"a", 1, None}
    assert all(2 <= v < 3 for v in draws("uniform(2,3)"))
    logs = [math.log10(v) for v in draws("loguniform(1e-4,1)")]
    assert all(-4 <= v <= 0 for v in logs) and min(logs) < -3  # spread over the decades
    assert all(
        0 <= v <= 1 and math.isclose(v * 4, round(v * 4)) for v in draws("quniform(0,1,0.25)")
    )
    assert set(draws("randint(3)")) == {0, 1, 2}
    normal = draws("normal(10,0.1)")
    assert all(9 < v < 11 for v in normal) and len(set(normal)) == 200


@pytest.mark.parametrize(
    ("search", "space", "samples", "says"),
    [
        (
            "hyperband",
            {"alpha": (0.1,)},
            None,
            "search 'hyperband' is not one of grid, random, bayesian",
        ),
        ("grid", {"alpha": (0.1, 0.5)}, 8, "samples 8 is not accepted with the grid search"),
        (
            "grid",
            {"alpha": Distribution("uniform", (0, 1))},
            None,
            "alpha 'uniform(0, 1)' is not accepted with the grid search, which needs values",
        ),
        ("random", {"alpha": (0.1, 0.5)}, None, "the random search needs samples: how many cells"),
        ("bayesian", {"alpha": (0.1, 0.5)}, 0, "samples 0 is not accepted: the bayesian search"),
        ("random", {"alpha": (0.1, 0.5)}, True, "samples True is not accepted"),
        (
            "bayesian",
            {"alpha": Distribution("normal", (0, 1))},
            8,
            "alpha 'normal(0, 1)' is not accepted with the bayesian search: Tune's Optuna searcher "
            "takes choice, uniform, loguniform, quniform, randint; use search random",
        ),
    ],
)
def test_search_rules_refuse_in_one_line(
    search: str, space: Space, samples: int | None, says: str
) -> None:
    with pytest.raises(SweepInputError) as caught:
        check_search(search, space, samples)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("search", "samples"), [("grid", None), ("random", 1), ("bayesian", 20)])
def test_value_lists_and_choice_suit_every_search(search: str, samples: int | None) -> None:
    """choice(...) in a grid means its values (HyperDrive's grid sampling takes only choice)."""
    check_search(
        search, {"alpha": (0.1, 0.5), "solver": Distribution("choice", ("a", "b"))}, samples
    )


def test_normal_suits_the_random_search() -> None:
    check_search("random", {"alpha": Distribution("normal", (0, 1))}, 4)


def test_a_grid_gets_no_search_algorithm() -> None:
    with pytest.raises(SweepInputError, match="samples 1 is not accepted with the grid search"):
        searcher("grid", {"alpha": (0.1,)}, metric="rmse", mode="min", seed=SEED, samples=1)


def test_random_configs_grow_by_appending_and_keep_each_params_values() -> None:
    """More samples append configs; adding or reordering parameters leaves others' values."""
    eight = sample_configs(SPACE, seed=SEED, samples=MORE)
    assert sample_configs(SPACE, seed=SEED, samples=FIRST) == eight[:FIRST]
    assert sample_configs(SPACE, seed=SEED + 1, samples=FIRST) != eight[:FIRST]
    wider = {"tol": Distribution("loguniform", (1e-5, 1e-2)), **dict(reversed(list(SPACE.items())))}
    assert [
        {n: c[n] for n in SPACE} for c in sample_configs(wider, seed=SEED, samples=MORE)
    ] == eight
    assert {c["solver"] for c in eight} <= {"auto", "svd"}
    assert all(c["k"] in (0, 1, 2) and 0 <= c["x"] < 1 for c in eight)


def test_an_extension_with_nothing_new_has_nothing_to_run() -> None:
    done = [(config, 1.0) for config in sample_configs(SPACE, seed=SEED, samples=FIRST)]
    for search in ("random", "bayesian"):
        _, _, left = searcher(
            search, SPACE, metric="loss", mode="min", seed=SEED, samples=FIRST, done=done
        )
        assert left == 0


# --- real Tune fits -------------------------------------------------------------------------


def score(config: Mapping[str, Any]) -> None:
    """A cheap function trainable: the loss is lowest at x=0.3, k=0, solver 'svd'."""
    from ray import tune

    loss = (config["x"] - 0.3) ** 2 + config["k"] + (config["solver"] == "auto")
    tune.report({"loss": loss})


def _fit(
    search: str, storage: Path, *, samples: int, done: Sequence[tuple[dict[str, Any], float]] = ()
) -> tuple[Any, Done]:
    """One sweep on the session's Ray: its search algorithm and its (config, loss) pairs."""
    from ray import tune

    alg, param_space, num_samples = searcher(
        search, SPACE, metric="loss", mode="min", seed=SEED, samples=samples, done=done
    )
    tuner = tune.Tuner(
        score,
        param_space=param_space,
        # One trial at a time on one reused actor: Tune starts a worker once per fit.
        tune_config=tune.TuneConfig(
            search_alg=alg, num_samples=num_samples, max_concurrent_trials=1, reuse_actors=True
        ),
        run_config=tune.RunConfig(storage_path=str(storage), verbose=0),
    )
    grid = tuner.fit()
    assert not grid.errors
    return alg, [({n: r.config[n] for n in SPACE}, r.metrics["loss"]) for r in grid]


def _configs(pairs: Sequence[tuple[dict[str, Any], float]]) -> list[dict[str, Any]]:
    return [config for config, _ in pairs]


@pytest.fixture(scope="module")
def random_fits(ray_address: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Done]:
    """A random sweep of FIRST samples, and its extension to MORE."""
    storage = tmp_path_factory.mktemp("random")
    first = _fit("random", storage, samples=FIRST)[1]
    return {"first": first, "extension": _fit("random", storage, samples=MORE, done=first)[1]}


@pytest.fixture(scope="module")
def bayesian_fits(ray_address: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Bayesian sweep of FIRST samples, and its extension to MORE."""
    storage = tmp_path_factory.mktemp("bayesian")
    first = _fit("bayesian", storage, samples=FIRST)[1]
    extension_alg, extension = _fit("bayesian", storage, samples=MORE, done=first)
    return {
        "first": first,
        "extension": extension,
        "study": extension_alg._ot_study,  # the Optuna study behind Tune's searcher
    }


# Each sweep is compared with the same seed's draws made again without Tune: what Tune ran
# is what the seed draws. (A second fit would cost ~5 s here, mostly its worker's imports.)


@pytest.mark.ray
def test_random_sweeps_with_the_same_seed_sample_the_same_configs(
    random_fits: dict[str, Done],
) -> None:
    first = _configs(random_fits["first"])
    assert first == sample_configs(SPACE, seed=SEED, samples=FIRST)
    assert len({json.dumps(c, sort_keys=True) for c in first}) == FIRST


@pytest.mark.ray
def test_a_random_extension_runs_only_the_new_configs(random_fits: dict[str, Done]) -> None:
    """Raising samples from 6 to 8 with the same seed: the 8 draws are the first 6 again and
    2 new ones, and only those 2 run."""
    drawn = sample_configs(SPACE, seed=SEED, samples=MORE)
    assert drawn[:FIRST] == _configs(random_fits["first"])
    assert _configs(random_fits["extension"]) == drawn[FIRST:]
    assert not any(c in _configs(random_fits["first"]) for c in drawn[FIRST:])


@pytest.mark.ray
def test_bayesian_sweeps_with_the_same_seed_sample_the_same_configs(
    bayesian_fits: dict[str, Any],
) -> None:
    """A new searcher with the seed suggests what the sweep ran (TPE's random start)."""
    again, _, _ = searcher("bayesian", SPACE, metric="loss", mode="min", seed=SEED, samples=FIRST)
    first = _configs(bayesian_fits["first"])
    assert [again.suggest(f"trial-{i}") for i in range(FIRST)] == first
    assert len({json.dumps(c, sort_keys=True) for c in first}) == FIRST


@pytest.mark.ray
def test_a_bayesian_extension_warm_starts_from_the_earlier_results(
    bayesian_fits: dict[str, Any],
) -> None:
    """The study starts with the 6 earlier trials and their losses; the 2 trials that run are
    new points, not re-evaluations of the earlier ones (nor the first sweep's first draws)."""
    import optuna

    first, extension = bayesian_fits["first"], bayesian_fits["extension"]
    trials = bayesian_fits["study"].trials
    assert len(extension) == MORE - FIRST
    assert [(t.params, t.value) for t in trials[:FIRST]] == first
    assert [(t.params, t.value) for t in trials[FIRST:]] == extension
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert not any(config in _configs(first) for config in _configs(extension))
