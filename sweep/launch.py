"""`python -m sweep.launch`: run a hyperparameter sweep, tracked, on Ray.

With no arguments it runs the tutorial's experiment: Ridge over alphas 0.1 ... 1.0 on the
diabetes data, in the workspace that `Workspace.from_config()` finds. This module is the
only place that reads the environment (`RAY_ADDRESS`) and the command line.

Exit codes: 0 every trial completed; 1 a trial failed (or its record could not be written);
2 bad input, reported on one line before Ray starts, or a sweep refused before any trial
runs (a `--resume` of saved state that is not what the sweep's driver wrote); 130 stopped
by Ctrl-C. The first Ctrl-C stops the sweep cleanly (the runs in flight end `Canceled`,
the records are written, the summary says how to resume); a second one stops at once.

What it does is said on stderr as it happens, each line with the seconds since it began
(`[0.8s] starting Ray: local, 2 CPUs ...`). When every cell already has a completed run,
Ray is not started.

A second driver of an experiment that a sweep is running waits for that sweep to end (it
says so on one line), then trains only the cells still to do.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sweep.errors import SweepInputError, SweepRefusedError
from sweep.policies import FORMS
from sweep.spec import DEFAULT_ALPHAS, DEFAULT_ESTIMATOR, METRICS
from sweep.status import Status
from sweep.summary import print_summary

# The clock every elapsed time the user sees counts from (`python -m sweep.launch` has
# imported the `sweep` package, half a second, before it gets here).
STARTED = time.monotonic()
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_SWEEP_FILE_BYTES = 1 << 20
# Set by Ray's job supervisor for the driver of a submitted job.
RAY_JOB_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"
# A value that argparse would take for an option: '-1,0.5', '-1:1:0.5', '-.5', '-inf'.
_NEGATIVE_VALUE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """argparse that raises `SweepInputError`, and knows which options take a value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.value_options: set[str] = set()
        self.long_options: set[str] = set()
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        long = {name for name in action.option_strings if name.startswith("--")}
        self.long_options |= long
        if action.nargs is None:
            self.value_options |= long
        return action

    def error(self, message: str) -> None:  # type: ignore[override]
        raise SweepInputError(message)

    def with_negative_values(self, argv: Sequence[str]) -> list[str]:
        """`argv` with each option followed by a value that begins with '-' joined to it
        (`--alphas -1,0.5` -> `--alphas=-1,0.5`): argparse would read the value as an
        unknown option, and the grid's own check is the one that should judge it."""
        out: list[str] = []
        args = iter(argv)
        for arg in args:
            out.append(arg)
            if arg == "--":
                out += args
            elif self._option_named(arg) in self.value_options:
                value = next(args, None)
                if value is not None and _NEGATIVE_VALUE.match(value):
                    out[-1] = f"{self._option_named(arg)}={value}"
                elif value is not None:
                    out.append(value)
        return out

    def _option_named(self, arg: str) -> str | None:
        """The long option that `arg` names, in full or by a unique abbreviation."""
        if not arg.startswith("--") or "=" in arg:
            return None
        matches = [name for name in self.long_options if name.startswith(arg)]
        return arg if arg in self.long_options else matches[0] if len(matches) == 1 else None


def build_parser() -> _Parser:
    parser = _Parser(
        prog="python -m sweep.launch",
        description="Run a hyperparameter sweep on Ray Tune; every trial becomes a tracked run.",
        epilog="Options may also come from a sweep file (--sweep-file); flags override it.",
    )
    add = parser.add_argument
    add("--sweep-file", metavar="FILE", help="a YAML or TOML file holding any of these options")
    add("--experiment", help="experiment name (default: diabetes-experiment)")
    add(
        "--alphas",
        help="Ridge alphas: a comma list (0.1,0.5,1) or start:stop:step with stop included "
        f"(default: {DEFAULT_ALPHAS[0]}:{DEFAULT_ALPHAS[-1]}:0.1)",
    )
    add(
        "--param",
        action="append",
        metavar="NAME=VALUES",
        help="another estimator parameter: values as for --alphas, or a distribution: "
        "choice(a,b,...), uniform(lo,hi), loguniform(lo,hi), quniform(lo,hi,q), "
        "randint(lo,hi), normal(mu,sigma) (repeatable)",
    )
    add(
        "--script",
        metavar="FILE",
        help="your training script, run once per cell as `python FILE --name value ...` "
        "(then the arguments after --), its Run.get_context() the cell's run",
    )
    add(
        "--search",
        choices=("grid", "random", "bayesian"),
        help="grid: every combination of the values (default); random: --samples cells "
        "drawn from the distributions with --seed; bayesian: --samples cells chosen by "
        "Optuna's TPE from the results so far",
    )
    add("--samples", type=int, help="cells a random or bayesian search draws")
    add(
        "--early-stop",
        metavar="POLICY",
        help="stop poor trials early, by the metric your code logs step by step: "
        + " | ".join(FORMS.values()),
    )
    add(
        "--estimator",
        help="a scikit-learn regressor or classifier: import path or class name "
        f"(default: {DEFAULT_ESTIMATOR})",
    )
    add(
        "--metric",
        help=f"the metric that picks the best run: {', '.join(METRICS)} (default rmse for a "
        "regressor, accuracy for a classifier), or the name your --script logs",
    )
    add("--mode", choices=("min", "max"), help="whether your --metric is best at its min or max")
    add(
        "--cv",
        type=int,
        metavar="K",
        help="score each cell by K-fold cross-validation on the train part: each metric's "
        "mean, and its standard deviation as <metric>_std (default: score on the test part)",
    )
    add(
        "--data",
        help="a CSV or Parquet file, local or s3://, or sklearn:iris|breast_cancer|wine|"
        "diabetes (default: the diabetes data)",
    )
    add("--target", help="the target column of --data")
    add("--seed", type=int, help="random_state of the train/test split and estimator (66)")
    add("--config", help="the workspace config.json, or its folder (default: ./config.json)")
    add("--storage", help="a folder or s3://bucket/prefix, overriding the workspace's storage")
    add("--address", help="an existing Ray cluster (default: $RAY_ADDRESS, else start one)")
    add("--max-concurrent", type=int, help="at most this many trials at once")
    add("--cpus-per-trial", type=float, help="CPUs reserved by each trial (1)")
    add(
        "--max-failures",
        type=int,
        help="retries of a cell whose fit raised, and of a trial whose worker or node was "
        "lost, even before it started (0; -1: no limit)",
    )
    add(
        "--pack",
        type=_pack,
        metavar="K|auto",
        help="train K grid cells in each trial, each still its own run (1); auto picks K "
        "from the grid size and the cluster's CPUs: for models that train in milliseconds",
    )
    add("--resume", action="store_true", default=None, help="finish the last interrupted sweep")
    return parser


def _pack(text: str) -> int | str:
    """--pack's value: an integer, or 'auto'; anything else is checked by SweepSpec."""
    try:
        return int(text)
    except ValueError:
        return text.strip().lower()


def load_sweep_file(path: str) -> dict[str, Any]:
    """The options in a YAML or TOML sweep file (keys as the flags, with '_' for '-')."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_SWEEP_FILE_BYTES:
            # YAML is parsed in Python at a few MB a minute: refused, not waited for.
            raise SweepInputError(
                f"sweep file {path!r} is {size:,} bytes: a sweep file is at most 1 MiB "
                "(give long grids as start:stop:step)"
            )
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise SweepInputError(f"sweep file {path!r} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise SweepInputError(f"sweep file {path!r} is not UTF-8 text") from None
    try:
        if file.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data: Any = tomllib.loads(text)
        elif file.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise SweepInputError(f"sweep file {path!r} is not accepted: use .yaml, .yml or .toml")
    except SweepInputError:
        raise
    except Exception as err:  # the YAML and TOML parsers raise their own error types
        raise SweepInputError(f"sweep file {path!r} is malformed: {err}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise SweepInputError(f"sweep file {path!r} must hold a mapping of options")
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def _param_flags(flags: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for flag in flags:
        name, sep, values = flag.partition("=")
        if not sep or not name.strip():
            raise SweepInputError(f"--param {flag!r} is not accepted: use NAME=VALUES")
        params[name.strip()] = values
    return params


def options_from(argv: Sequence[str] | None, environ: dict[str, str]) -> dict[str, Any]:
    """Merge the sweep file, the flags and the environment into `SweepSpec.create` options."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    script_args = argv[argv.index("--") + 1 :] if "--" in argv else None
    argv = argv[: argv.index("--")] if "--" in argv else argv
    args = parser.parse_args(parser.with_negative_values(argv))
    options = load_sweep_file(args.sweep_file) if args.sweep_file else {}
    flags = {k: v for k, v in vars(args).items() if v is not None and k != "sweep_file"}
    if script_args is not None:  # `-- --extra x`: the script's own arguments
        flags["script_args"] = script_args
    if "param" in flags:
        options["params"] = {**(options.get("params") or {}), **_param_flags(flags.pop("param"))}
    options.update(flags)
    data_fields: dict[str, Any] = {
        k: options.pop(k) for k in ("data", "target", "test_size") if k in options
    }
    if data_fields:
        from sweep.spec import DataSpec

        data_fields["path"] = data_fields.pop("data", None)
        options["data"] = DataSpec(**data_fields)
    if not options.get("address") and environ.get("RAY_ADDRESS"):
        options["address"] = environ["RAY_ADDRESS"]
    if RAY_JOB_ENV in environ:
        _check_job_workspace(options.get("config"))
    return options


def _check_job_workspace(config: str | None) -> None:
    """A submitted job runs in a temporary copy of its working dir: refuse to keep the
    records there, as the embedded workspace would."""
    from tracking.config import find_config

    if find_config(config) is None:
        raise SweepInputError(
            "this Ray job has no workspace config, so its records would be kept in the job's "
            "temporary folder and lost: pass --config, or ship a config.json whose "
            "tracking_uri and storage_uri are absolute paths, postgresql:// or s3://"
        )


class _Held(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def held_logs(*names: str) -> Iterator[None]:
    """Hold what the loggers `names` log in the block: logged after it if it ends normally,
    dropped if it raises. Bad input then is one line, not a notice (say, that the embedded
    workspace is in use) followed by the error."""
    held = _Held()
    loggers = [logging.getLogger(name) for name in names]
    propagate = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(held)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, value in zip(loggers, propagate, strict=True):
            logger.removeHandler(held)
            logger.propagate = value
    for record in held.records:
        logging.getLogger(record.name).handle(record)


def resume_command(argv: Sequence[str]) -> str:
    """The command that finishes an interrupted sweep: this one, with `--resume`."""
    args = list(argv)
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["python", "-m", "sweep.launch", *args])


@contextmanager
def second_interrupt_exits() -> Iterator[None]:
    """In the block, the first Ctrl-C raises KeyboardInterrupt (while Tune runs a sweep,
    Tune's own handler takes it and stops the sweep cleanly, then gives Ctrl-C back);
    the one after exits the process at once, with 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            print("sweep: stopped at once", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _last_line(err: BaseException) -> str:
    """What an error says, in one line: the last line of a message that holds a traceback
    (Tune's errors do), else its first."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    started = STARTED if argv is None else time.monotonic()  # the process's, or this call's
    with second_interrupt_exits():
        return _main(args, Status(started))


def _main(argv: list[str], status: Status) -> int:
    from tracking import TrackingError

    try:
        options = options_from(argv, dict(os.environ))
        from sweep.driver import check, execute, prepare
        from sweep.spec import SweepSpec

        with held_logs("tracking", "sweep"):
            checked = check(SweepSpec.create(**options))
        prepared = prepare(checked, status=status)
    except (SweepInputError, TrackingError, TypeError) as err:
        print(f"sweep: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # starting Ray, or waiting for another sweep of the experiment
        print("sweep: interrupted before any trial ran", file=sys.stderr)
        return EXIT_INTERRUPTED
    again = resume_command(argv)
    try:
        result = execute(prepared)
    except SweepRefusedError as err:
        print(f"sweep: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # a second Ctrl-C: Tune did not finish stopping the sweep
        print(f"sweep: stopped; to finish it: {again}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # At once: not after Ray's orderly shutdown (seconds); the records are written,
        # and a local Ray started here ends with this process.
        os._exit(EXIT_INTERRUPTED)
    except Exception as err:  # one line, not a traceback: the runs hold the details
        print(f"sweep: failed: {type(err).__name__}: {_last_line(err)}", file=sys.stderr)
        return EXIT_FAILED
    print_summary(result, prepared.spec, resume=again)
    for message in result.tracking_errors:
        print(f"sweep: tracking error: {message}", file=sys.stderr)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
