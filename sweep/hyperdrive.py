"""Azure ML v1's `ScriptRunConfig` and HyperDrive, on Ray: v1 sweep code runs with only its
imports changed.

    from tracking import Workspace, Experiment        # was: from azureml.core import ...
    from sweep.hyperdrive import (                    # was: azureml.core (ScriptRunConfig,
        ScriptRunConfig, Environment, ComputeTarget,  # Environment), azureml.core.compute
        HyperDriveConfig, RandomParameterSampling,    # and azureml.train.hyperdrive.*
        BanditPolicy, PrimaryMetricGoal, choice,
    )

`experiment.submit(config)` hands the config its experiment (`tracking` imports no Ray);
the config checks itself, starts or joins Ray, and returns its run at once while a thread
of this process drives it (keep the process alive until it ends: `wait_for_completion`).

- `ScriptRunConfig`: one run of `source_directory/script` with `arguments`, in a Ray worker
  (`sweep.script`: a subprocess in a fresh folder holding `outputs/`; `Run.get_context()`
  inside is the run).
- `HyperDriveConfig`: a sweep (`sweep.driver`) of that script: a `hyperdrive` parent run
  whose children are the trials, each run with the script's arguments followed by its
  sampled values (`--kernel rbf`; argparse takes the last). Every submission trains all its
  cells, as in v1 (`python -m sweep.launch --script` reuses cells done before instead).
- `compute_target`: a name in the workspace config's `compute_targets` (a Ray cluster's
  address), a `ComputeTarget`, or None / "local" for a local Ray. Creating or provisioning
  compute is refused: clusters are made with `cluster/`.
- `environment`: `Environment.from_pip_requirements` and `from_conda_specification` become
  Ray's `runtime_env` (`pip`, `conda`); a named environment (`Environment.get(ws, name)`,
  say a curated `AzureML-...` one) means the Python environment the workers already have.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sweep.errors import SweepInputError
from sweep.policies import EarlyStop, parse_early_stop
from sweep.space import Distribution
from tracking import Experiment, Run, Workspace
from tracking.errors import UnsupportedError
from tracking.records import ARGUMENTS, SCRIPT, NewRun, RunStatus, utcnow

if TYPE_CHECKING:
    from sweep.spec import SweepSpec

log = logging.getLogger(__name__)

LOCAL = "local"
CLUSTERS_HELP = (
    "clusters are made with Ray here: cluster/local.sh, cluster/aws.yaml or "
    "cluster/kuberay-rayjob.yaml; then name one in the workspace config's compute_targets"
)


# -- parameter expressions (azureml.train.hyperdrive.parameter_expressions) ---------------
def choice(*options: Any) -> Distribution:
    """One of `options` (or of the one list or range given)."""
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    return Distribution("choice", tuple(options))


def uniform(min_value: float, max_value: float) -> Distribution:
    return Distribution("uniform", (min_value, max_value))


def loguniform(min_value: float, max_value: float) -> Distribution:
    """exp(uniform(min_value, max_value)), as HyperDrive: the bounds are logarithms."""
    return Distribution("loguniform", (math.exp(min_value), math.exp(max_value)))


def quniform(min_value: float, max_value: float, q: float) -> Distribution:
    return Distribution("quniform", (min_value, max_value, q))


def randint(upper: int) -> Distribution:
    """An integer in [0, upper)."""
    return Distribution("randint", (0, upper))


def normal(mu: float, sigma: float) -> Distribution:
    return Distribution("normal", (mu, sigma))


# -- sampling -------------------------------------------------------------------------------
class _Sampling:
    search: ClassVar[str]

    def __init__(
        self,
        parameter_space: Mapping[str, Distribution],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(parameter_space, Mapping) or not parameter_space:
            raise SweepInputError(
                f"{type(self).__name__} takes a dict of parameter expressions, as "
                "{'--kernel': choice('linear', 'rbf')}"
            )
        for name, value in parameter_space.items():
            if not isinstance(value, Distribution):
                raise SweepInputError(
                    f"{name} {value!r} is not accepted: give a parameter expression "
                    "(choice, uniform, loguniform, quniform, randint, normal)"
                )
        unknown = sorted(set(properties or {}) - {"seed"})
        if unknown:
            raise SweepInputError(
                f"{type(self).__name__} property {unknown[0]!r} is not accepted: it takes seed"
            )
        self.parameter_space = dict(parameter_space)
        self.seed: int | None = (properties or {}).get("seed")

    def params(self) -> dict[str, Distribution]:
        """The space by the script's argument names: '--kernel' and 'kernel' are 'kernel'."""
        named: dict[str, Distribution] = {}
        for name, value in self.parameter_space.items():
            bare = str(name).lstrip("-")
            if not bare or bare in named:
                raise SweepInputError(f"parameter {name!r} is empty or given twice")
            named[bare] = value
        return named


class GridParameterSampling(_Sampling):
    """Every combination of the `choice` values."""

    search = "grid"


class RandomParameterSampling(_Sampling):
    """`max_total_runs` draws (`properties={"seed": N}` fixes them)."""

    search = "random"


class BayesianParameterSampling(_Sampling):
    """`max_total_runs` draws by Optuna's TPE, each from the results so far."""

    search = "bayesian"


# -- early termination (azureml.train.hyperdrive.policy) -------------------------------------
@dataclass(frozen=True)
class BanditPolicy:
    evaluation_interval: int = 1
    slack_factor: float | None = None
    slack_amount: float | None = None
    delay_evaluation: int = 0

    def early_stop(self) -> EarlyStop:
        options = [f"interval={self.evaluation_interval}", f"delay={self.delay_evaluation}"]
        if self.slack_factor is not None:
            options.append(f"slack={self.slack_factor}")
        if self.slack_amount is not None:
            options.append(f"slack_amount={self.slack_amount}")
        return parse_early_stop("bandit:" + ",".join(options))


@dataclass(frozen=True)
class MedianStoppingPolicy:
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def early_stop(self) -> EarlyStop:
        return parse_early_stop(
            f"median:interval={self.evaluation_interval},delay={self.delay_evaluation}"
        )


@dataclass(frozen=True)
class TruncationSelectionPolicy:
    truncation_percentage: int
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    exclude_finished_jobs: bool = False

    def early_stop(self) -> EarlyStop:
        if self.exclude_finished_jobs:
            raise SweepInputError(
                "exclude_finished_jobs=True is not supported: truncation ranks every trial "
                "that reached the step, finished or not"
            )
        return parse_early_stop(
            f"truncation:percent={self.truncation_percentage},"
            f"interval={self.evaluation_interval},delay={self.delay_evaluation}"
        )


@dataclass(frozen=True)
class NoTerminationPolicy:
    def early_stop(self) -> None:
        return None


class PrimaryMetricGoal:
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


# -- compute and environments ---------------------------------------------------------------
class ComputeTargetException(Exception):
    """A compute target that the workspace config does not name (v1's exception)."""


class ComputeTarget:
    """A Ray cluster named in the workspace config, as `"compute_targets": {"cpu-cluster":
    {"address": "10.0.0.5:6379"}}`.

    Raises:
        ComputeTargetException: the config names no such target.
    """

    def __init__(self, workspace: Workspace, name: str) -> None:
        targets = dict(workspace.config.compute_targets)
        if name not in targets:
            named = ", ".join(sorted(targets)) or "none"
            raise ComputeTargetException(
                f"compute target {name!r} is not in the workspace config (it names: {named}); "
                'add "compute_targets": {"NAME": {"address": "HOST:PORT"}} to config.json'
            )
        self.workspace = workspace
        self.name = name
        self.address = targets[name]

    @staticmethod
    def create(*args: Any, **kwargs: Any) -> ComputeTarget:
        raise UnsupportedError(f"ComputeTarget.create provisions Azure compute; {CLUSTERS_HELP}")

    def wait_for_completion(
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: int = 20,
        is_delete_operation: bool = False,
    ) -> None:
        """Nothing to wait for: the cluster is already up (made with `cluster/`)."""
        if show_output:
            print(f"compute target {self.name}: the Ray cluster at {self.address}")

    def get_status(self) -> _ComputeStatus:
        return _ComputeStatus(self.name, self.address)

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, address={self.address!r})"


@dataclass(frozen=True)
class _ComputeStatus:
    name: str
    address: str

    def serialize(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "provisioningState": "Succeeded"}


class AmlCompute:
    """Azure's managed compute: provisioning it is refused here."""

    @staticmethod
    def provisioning_configuration(*args: Any, **kwargs: Any) -> None:
        raise UnsupportedError(
            f"AmlCompute.provisioning_configuration provisions Azure VMs; {CLUSTERS_HELP}"
        )


class Environment:
    """A Python environment for the run's workers: Ray's `runtime_env`, or (a named one)
    the environment they already have."""

    _said: ClassVar[set[str]] = set()

    def __init__(self, name: str) -> None:
        self.name = name
        self.runtime_env: dict[str, Any] = {}

    @classmethod
    def get(cls, workspace: Workspace, name: str, version: str | None = None) -> Environment:
        """A named (say curated) environment: here, the one the workers already have."""
        if name not in cls._said:
            cls._said.add(name)
            log.warning(
                "environment %r: runs use the Python environment of Ray's workers as it is "
                "(give Environment.from_pip_requirements to install packages for a run)",
                name,
            )
        return cls(name)

    @classmethod
    def from_pip_requirements(
        cls, name: str, file_path: str, pip_version: str | None = None
    ) -> Environment:
        """Ray installs these requirements for the run's workers (`runtime_env` `pip`)."""
        lines = _read(file_path).splitlines()
        env = cls(name)
        packages = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
        env.runtime_env = {"pip": packages}
        return env

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str) -> Environment:
        """Ray builds this conda environment for the run's workers (`runtime_env` `conda`;
        conda must be installed on every node)."""
        import yaml

        spec = yaml.safe_load(_read(file_path))
        if not isinstance(spec, dict):
            raise SweepInputError(f"conda specification {file_path!r} is not a YAML mapping")
        env = cls(name)
        env.runtime_env = {"conda": spec}
        return env

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r})"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        raise SweepInputError(f"{path!r} cannot be read: {err.strerror}") from None


class RunDetails:
    """`azureml.widgets.RunDetails`: here, the run's status and its portal link (the portal
    page updates while the run goes on)."""

    def __init__(self, run_instance: Run) -> None:
        self.run = run_instance

    def show(self) -> None:
        if _in_notebook():
            try:
                from IPython.display import HTML, display
            except ImportError:
                pass
            else:
                display(HTML(self.run._repr_html_()))
                return
        print(f"{self.run.id}: {self.run.get_status()}; see {self.run.portal_url}")


def _in_notebook() -> bool:
    from sweep.notebook import in_notebook

    return in_notebook()


# -- the configs ------------------------------------------------------------------------------
class ScriptRunConfig:
    """A run of `source_directory/script` with `arguments`, on Ray (see the module).

    Raises:
        SweepInputError: the source directory or the script does not exist.
    """

    def __init__(
        self,
        source_directory: str,
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        run_config: Any = None,
        compute_target: ComputeTarget | str | None = None,
        environment: Environment | None = None,
        max_run_duration_seconds: int | None = None,
        command: Any = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        docker_runtime_config: Any = None,
        _telemetry_values: Any = None,
    ) -> None:
        for name, value in (
            ("run_config", run_config),
            ("command", command),
            ("distributed_job_config", distributed_job_config),
            ("resume_from", resume_from),
            ("docker_runtime_config", docker_runtime_config),
        ):
            if value is not None:
                raise SweepInputError(
                    f"ScriptRunConfig {name} is not supported here: give source_directory, "
                    "script, arguments, compute_target and environment"
                )
        if not os.path.isdir(source_directory):
            raise SweepInputError(f"source_directory {source_directory!r} is not a folder")
        if script is None:
            raise SweepInputError("ScriptRunConfig needs script: the file to run")
        path = os.path.abspath(os.path.join(source_directory, script))
        if not os.path.isfile(path):
            raise SweepInputError(f"script {script!r} does not exist in {source_directory!r}")
        if environment is not None and not isinstance(environment, Environment):
            raise SweepInputError(
                f"environment {environment!r} is not a sweep.hyperdrive.Environment"
            )
        self.source_directory = os.path.abspath(source_directory)
        self.script = script
        self.path = path
        self.arguments = [str(a) for a in arguments or ()]
        self.compute_target = compute_target
        self.environment = environment
        self.max_run_duration_seconds = max_run_duration_seconds

    def _address(self, workspace: Workspace) -> str | None:
        """The Ray address of the compute target (None: start a local Ray)."""
        target = self.compute_target
        if target is None or target == LOCAL:
            return None
        if isinstance(target, ComputeTarget):
            return target.address
        if isinstance(target, str):
            return ComputeTarget(workspace, target).address
        raise SweepInputError(f"compute_target {target!r} is not a name or a ComputeTarget")

    def _runtime_env(self, address: str | None) -> dict[str, Any] | None:
        """What Ray ships to the workers: the environment's packages; on a cluster, the
        source directory too, as the job's `working_dir`."""
        env = dict(self.environment.runtime_env) if self.environment is not None else {}
        if address is not None:
            env["working_dir"] = self.source_directory
        return env or None

    def _submit(self, experiment: Experiment, tags: dict[str, str]) -> Run:
        """Record a queued run, then run the script on Ray in a thread; the run, at once."""
        from sweep.raystart import connect_ray
        from sweep.status import Status

        workspace = experiment.workspace
        address = self._address(workspace)
        connect_ray(address, _job_env(self._runtime_env(address)), Status(quiet=True))
        run_id = str(uuid.uuid4())
        properties = {SCRIPT: self.path, ARGUMENTS: json.dumps(self.arguments)}
        new = NewRun(run_id, utcnow(), properties=properties, tags=tags, status=RunStatus.QUEUED)
        workspace.records.record_runs(experiment.id, [new])
        workspace.heartbeat.add([run_id])
        thread = threading.Thread(
            target=_drive_script,
            args=(self, experiment, run_id, properties, tags),
            name=f"run-{run_id}",
        )
        thread.start()
        return Run(experiment, run_id)


_connected_env: list[dict[str, Any] | None] = []  # the runtime_env Ray was joined with here


def _job_env(runtime_env: dict[str, Any] | None) -> dict[str, Any] | None:
    """The runtime_env to join Ray with: none once this process has joined it with the same
    one (a later submit of the same sources).

    Raises:
        SweepInputError: Ray was joined here with another environment (Ray sets a job's
            runtime_env once, when the process connects).
    """
    import ray

    if not ray.is_initialized():
        _connected_env[:] = [runtime_env]
        return runtime_env
    if _connected_env and _connected_env[0] != runtime_env:
        raise SweepInputError(
            "Ray is connected in this process with another environment or source directory: "
            "Ray sets them once per process, so submit this config from a new Python process"
        )
    return None


@dataclass(frozen=True)
class _OneRun:
    """The queued run a submitted script's one trial takes (picklable, for Tune)."""

    run_id: str

    def __call__(self, config: Mapping[str, Any]) -> list[str | None]:
        return [self.run_id]


def _drive_script(
    config: ScriptRunConfig,
    experiment: Experiment,
    run_id: str,
    properties: dict[str, str],
    tags: dict[str, str],
) -> None:
    """Run the script as one Tune trial, its run recorded by `TrackingCallback`; then set
    the submission's tags again (the trial's record replaced the queued run's)."""
    from ray import tune

    from sweep.callback import TrackingCallback
    from sweep.raystart import tune_quiet
    from sweep.script import script_trainable
    from sweep.storage import tune_storage

    tracker = TrackingCallback(experiment, properties=properties, queued=_OneRun(run_id))
    try:
        storage_path, filesystem = tune_storage(experiment.workspace)
        trainable = script_trainable(config.path, config.arguments)
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 1}),
            tune_config=tune.TuneConfig(time_budget_s=config.max_run_duration_seconds),
            run_config=tune.RunConfig(
                name=f"{experiment.name}-{run_id}",
                storage_path=storage_path,
                storage_filesystem=filesystem,
                callbacks=[tracker],
                verbose=0,
            ),
        )
        with tune_quiet():
            tuner.fit()
    except BaseException as err:  # the run says why; nothing else is waiting for this thread
        tracker.close()
        run = Run(experiment, run_id)
        if run.get_status() not in ("Completed", "Failed", "Canceled"):
            experiment.workspace.records.set_status(
                run_id, RunStatus.FAILED, error=f"{type(err).__name__}: {err}", end_time=utcnow()
            )
        return
    finally:
        experiment.workspace.heartbeat.discard([run_id])
    tracker.close()
    if tags:
        experiment.workspace.records.log_batch(run_id, tags=tags)


class HyperDriveConfig:
    """A sweep of a `ScriptRunConfig`'s script over a sampled space (see the module).

    Raises:
        SweepInputError: a space its sampling refuses (a distribution in grid sampling, say),
            a policy's bad value, a goal that is neither MAXIMIZE nor MINIMIZE, a missing
            `max_total_runs` for random or Bayesian sampling; before anything runs.
    """

    def __init__(
        self,
        run_config: ScriptRunConfig,
        hyperparameter_sampling: _Sampling,
        primary_metric_name: str,
        primary_metric_goal: str,
        max_total_runs: int | None = None,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float | None = 10080,
        policy: Any = None,
        estimator: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
    ) -> None:
        for name, value in (
            ("estimator", estimator),
            ("pipeline", pipeline),
            ("resume_from", resume_from),
            ("resume_child_runs", resume_child_runs),
        ):
            if value is not None:
                raise SweepInputError(
                    f"HyperDriveConfig {name} is not supported here: give run_config, a "
                    "ScriptRunConfig"
                )
        if not isinstance(run_config, ScriptRunConfig):
            raise SweepInputError(f"run_config {run_config!r} is not a ScriptRunConfig")
        if not isinstance(hyperparameter_sampling, _Sampling):
            raise SweepInputError(
                f"hyperparameter_sampling {hyperparameter_sampling!r} is not one of "
                "GridParameterSampling, RandomParameterSampling, BayesianParameterSampling"
            )
        goals = {PrimaryMetricGoal.MAXIMIZE: "max", PrimaryMetricGoal.MINIMIZE: "min"}
        goal = str(getattr(primary_metric_goal, "value", primary_metric_goal)).upper()
        if goal not in goals:
            raise SweepInputError(
                f"primary_metric_goal {primary_metric_goal!r} is not accepted: use "
                "PrimaryMetricGoal.MAXIMIZE or PrimaryMetricGoal.MINIMIZE"
            )
        early_stop = policy.early_stop() if policy is not None else None
        sampling = hyperparameter_sampling
        self.run_config = run_config
        self._spec = _spec(
            run_config,
            sampling,
            metric=primary_metric_name,
            mode=goals[goal],
            max_total_runs=max_total_runs,
            max_concurrent=max_concurrent_runs,
            early_stop=early_stop,
            time_budget_s=None if max_duration_minutes is None else 60 * max_duration_minutes,
        )

    def _submit(self, experiment: Experiment, tags: dict[str, str]) -> HyperDriveRun:
        """Check, start or join Ray and claim the experiment; then run the sweep in a thread
        and return its parent run once it exists."""
        from sweep.driver import execute, prepare
        from sweep.status import Status

        workspace = experiment.workspace
        address = self.run_config._address(workspace)
        spec = replace(self._spec, experiment=experiment.name, address=address)
        prepared = prepare(
            spec,
            workspace,
            runtime_env=_job_env(self.run_config._runtime_env(address)),
            status=Status(quiet=True),
        )
        opened = threading.Event()
        parent: list[str] = []
        failure: list[BaseException] = []

        def on_parent(run_id: str) -> None:
            parent.append(run_id)
            if tags:
                workspace.records.log_batch(run_id, tags=tags)
            opened.set()

        def drive() -> None:
            try:
                execute(prepared, progress=False, on_parent=on_parent)
            except BaseException as err:  # the parent says why (execute ends it Failed)
                failure.append(err)
                log.warning("HyperDrive run of %s failed: %s", experiment.name, err)
            finally:
                opened.set()

        threading.Thread(target=drive, name=f"hyperdrive-{experiment.name}").start()
        opened.wait()
        if not parent:
            raise failure[0] if failure else SweepInputError("the sweep started no run")
        return HyperDriveRun(experiment, parent[0])


def _spec(
    src: ScriptRunConfig,
    sampling: _Sampling,
    *,
    metric: str,
    mode: str,
    max_total_runs: int | None,
    **fields: Any,
) -> SweepSpec:
    """The sweep a HyperDrive config describes, checked now (the experiment comes later)."""
    from sweep.spec import SweepSpec

    params = sampling.params()
    samples = None if sampling.search == "grid" else max_total_runs
    if sampling.search != "grid" and max_total_runs is None:
        raise SweepInputError(
            f"{type(sampling).__name__} needs max_total_runs: how many runs to draw"
        )
    options: dict[str, Any] = dict(fields)
    if sampling.seed is not None:
        options["seed"] = sampling.seed
    spec = SweepSpec.create(
        experiment="hyperdrive",
        params=params,
        search=sampling.search,
        samples=samples,
        script=src.path,
        script_args=src.arguments,
        metric=metric,
        mode=mode,
        fresh=True,
        **options,
    )
    if sampling.search == "grid" and max_total_runs is not None:
        cells = len(spec.cells())
        if max_total_runs < cells:
            raise SweepInputError(
                f"max_total_runs {max_total_runs} is fewer than the grid's {cells} runs: raise "
                "it, or use RandomParameterSampling to draw that many"
            )
    return spec


class HyperDriveRun(Run):
    """A HyperDrive sweep's parent run: its children are the trials."""

    def cancel(self) -> None:
        """Stop the sweep: its driver cancels the trials in flight and those not started,
        then ends this run `Canceled` (`wait_for_completion` waits for that)."""
        from sweep.stops import request_cancel

        request_cancel(self.experiment, self.id)

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """The children, best first by the last value of the primary metric (`reverse`:
        worst first), each as {run_id, hyperparameters, best_primary_metric, status}; `top`
        of them (0: all). Children without a value come last (or, `discard_no_metric`, not
        at all)."""
        name = self.properties.get("primary_metric_name", "")
        maximize = self.properties.get("primary_metric_goal", "minimize") == "maximize"
        rows = []
        for child in self.get_children():
            value = child.get_metrics().get(name)
            value = value[-1] if isinstance(value, list) and value else value
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
                value = None
            if value is None and discard_no_metric:
                continue
            rows.append(
                {
                    "run_id": child.id,
                    "hyperparameters": json.dumps(child.get_params()),
                    "best_primary_metric": value,
                    "status": child.status,
                }
            )
        scored = [r for r in rows if r["best_primary_metric"] is not None]
        scored.sort(
            key=lambda r: cast(float, r["best_primary_metric"]), reverse=maximize != reverse
        )
        ordered = scored + [r for r in rows if r["best_primary_metric"] is None]
        return ordered[:top] if top else ordered

    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """Each child's metrics by its run id, as v1's HyperDriveRun gives them."""
        return {child.id: child.get_metrics(name) for child in self.get_children()}
