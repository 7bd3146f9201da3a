"""Start a local Ray instance or join a cluster for a sweep, saying so as it happens; keep
Ray Tune's own console output out of the way while a sweep runs."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from sweep.errors import SweepInputError
from sweep.status import Status

# Ray forwards a worker's output to its driver through its log monitor, which looks for new
# worker log files every half second: a driver that exits as soon as its trials end would
# drop their last lines. On its way out it waits for them up to this long after they ended.
OUTPUT_LAG_S = 1.0
_trials_ended_at: float | None = None  # when this process's last Tune run ended (monotonic)


def trials_ended() -> None:
    """Note that a Tune run's trials have just ended: their last output is on its way."""
    global _trials_ended_at
    _trials_ended_at = time.monotonic()


def _let_worker_output_arrive() -> None:
    if _trials_ended_at is not None:
        time.sleep(max(0.0, _trials_ended_at + OUTPUT_LAG_S - time.monotonic()))


def local_cpus() -> int:
    """The CPUs a local Ray instance will see: those this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def connect_ray(
    address: str | None,
    runtime_env: Mapping[str, Any] | None = None,
    status: Status | None = None,
) -> None:
    """Start a local Ray instance, or connect to the cluster at `address`.

    The workers' output (a trainable's prints, its tracebacks) reaches this process's
    console, as Ray shows it by default. `status` is told what is happening and when Ray
    is ready (nothing is said when Ray is already connected in this process).

    Raises:
        SweepInputError: nothing answers at `address`; a `runtime_env` for a Ray already
            connected in this process (it cannot change).
    """
    from sweep.notebook import quiet_ray_import

    with quiet_ray_import():  # in a notebook: none of the warnings Ray's import writes there
        import ray

    if ray.is_initialized():
        if runtime_env:
            raise SweepInputError(
                "Ray is already connected in this process, so run_sweep cannot give it a "
                "runtime_env: pass runtime_env to your own ray.init(...) instead"
            )
        return
    status = status or Status(quiet=True)
    doing = (
        f"connecting to the Ray cluster at {address}"
        if address
        else f"starting Ray: local, {local_cpus()} CPUs"
    )
    try:
        with status.during(doing):
            ray.init(
                address=address,
                runtime_env=dict(runtime_env) if runtime_env else None,
                logging_level=logging.ERROR,  # Ray's own driver-side logs; not the workers'
                include_dashboard=False if address is None else None,
            )
    except Exception as err:  # Ray raises several kinds: refused, no token, wrong version
        text = str(err).strip()
        # Ray's messages run to several sentences of advice: the first says what is wrong.
        message = text.split(". ")[0].splitlines()[0] if text else type(err).__name__
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise SweepInputError(f"cannot connect to {where}: {message}") from None
    if address is None:
        # A Ray this process started is stopped before the interpreter's last steps, not
        # torn down by signals while it shuts down: in a notebook kernel, as soon as the
        # kernel is asked to shut down (ipykernel then signals every child process, Ray's
        # too, before Python's exit hooks run).
        atexit.register(_stop_ray)
        _stop_ray_with_kernel()
    atexit.register(_let_worker_output_arrive)  # registered last: runs before `_stop_ray`
    status.say(f"Ray ready: {describe_cluster()}")


def _stop_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _stop_ray_with_kernel() -> None:
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None and shell.has_trait("exit_now"):
        shell.observe(lambda change: _stop_ray() if change["new"] else None, names="exit_now")


def describe_cluster() -> str:
    """`2 CPUs`, or `3 nodes, 24 CPUs`: what the connected Ray offers."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 0))
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    shown = f"{cpus} CPU" if cpus == 1 else f"{cpus} CPUs"
    return shown if nodes <= 1 else f"{nodes} nodes, {shown}"


def check_reachable(address: str) -> None:
    """Refuse, in one line, a cluster address at which nothing answers.

    Raises:
        SweepInputError: no connection within 5 seconds.
    """
    parsed = urlparse(address if "://" in address else f"gcs://{address}")
    default_port = 10001 if parsed.scheme == "ray" else 6379
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as err:
        raise SweepInputError(
            f"the Ray cluster address {address!r} does not answer "
            f"({host}:{port}: {err.strerror or err})"
        ) from None


# Ray Tune's own console tables and per-trial result files: the tracking records and our
# progress line replace them. Tune reads these in the driver while it runs a sweep.
_TUNE_QUIET = {"RAY_AIR_NEW_OUTPUT": "0", "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
# Tune logs a failed trial's whole traceback, then its id; a sweep records the error on the
# trial's run, says it in its summary and keeps a script's stderr as the run's log.
_TRIAL_ERROR_LOGGERS = ("ray.tune.execution.tune_controller", "ray.tune.tune")


@contextmanager
def tune_quiet() -> Iterator[None]:
    """While inside, Tune keeps quiet (unless the caller's environment says otherwise);
    after, the environment is as it was: a notebook's later Tuners keep their loggers."""
    before = {name: os.environ.get(name) for name in _TUNE_QUIET}
    for name, value in _TUNE_QUIET.items():
        os.environ.setdefault(name, value)
    loggers = [logging.getLogger(name) for name in _TRIAL_ERROR_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for name, old in before.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
