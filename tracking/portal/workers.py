"""Serving the portal from several processes: workers on one port.

One Python process serves the portal on one core: its requests take turns on the GIL. With
`--workers N` the command binds the port, then starts N worker processes (spawned, not
forked: nothing the parent opened, no engine or thread, crosses into them) that each open
the workspace for reading and serve its own app on a listening socket of that port: on
Linux each its own (`SO_REUSEPORT`, see `tracking.portal.__main__._worker_sockets`),
elsewhere one they share. The kernel hands each new connection to one of them, and it keeps
that connection. Every worker builds its app from the same `AppSpec`, so the token,
allowed hosts and limits are the same in each.

The parent only supervises: on SIGTERM or SIGINT it asks each worker to stop (SIGTERM, by
its pid: a worker finishes the requests it has, up to `STOP_SECONDS`) and kills any worker
still running after that; if a worker ends by itself, the others are stopped and the
command exits non-zero (a service manager restarts the whole portal).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp, Receive, Scope, Send

    from tracking.workspace import Workspace

STOP_SECONDS = 10.0  # a stopping worker's time to finish its requests before it is killed
EXIT_WORKER_FAILED = 1


@dataclass(frozen=True)
class AppSpec:
    """What a worker builds its app from (sent to it pickled: it is no command line).

    Attributes:
        config: the workspace's config file or folder, None for `Workspace.from_config()`'s
            default.
        token, allowed_hosts, refresh_seconds, max_downloads: as `create_app` takes them.
    """

    config: str | None
    token: str | None
    allowed_hosts: tuple[str, ...]
    refresh_seconds: float
    max_downloads: int

    @property
    def threads(self) -> int:
        """Threads of Starlette's pool: one per download allowed at once (a download holds
        its thread while it hashes the file), and one to refuse the next; the pages have
        their own (`tracking.portal.threads`)."""
        return self.max_downloads + 1


def build_app(spec: AppSpec) -> tuple[Workspace, Starlette]:
    """The workspace, opened for reading (the portal never writes), and its app.

    Raises:
        TrackingError: the config or the workspace cannot be used.
    """
    from tracking.portal.app import create_app
    from tracking.workspace import Workspace

    workspace = Workspace.from_config(spec.config, read_only=True)
    try:
        app = create_app(
            workspace,
            token=spec.token,
            allowed_hosts=spec.allowed_hosts,
            refresh_seconds=spec.refresh_seconds,
            max_downloads=spec.max_downloads,
        )
    except BaseException:
        workspace.close()
        raise
    return workspace, app


def serve(app: Starlette, sock: socket.socket, threads: int) -> None:
    """Serve `app` on the listening socket `sock` with uvicorn until it is told to stop,
    Starlette's pool (its downloads) at most `threads` threads."""
    import uvicorn

    config = uvicorn.Config(
        _threads_limited(app, threads), log_level="warning", access_log=False, lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[sock])


def _threads_limited(app: Starlette, threads: int) -> ASGIApp:
    """`app`, with Starlette's pool (anyio's, 40 threads by default) of `threads` threads."""
    limited = False

    async def limit_first(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal limited
        if not limited:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            limited = True
        await app(scope, receive, send)

    return limit_first


def _stop_quietly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _worker(spec: AppSpec, sock: socket.socket) -> None:
    """A worker's body: its own workspace and app, served on the shared socket."""
    # Until uvicorn takes the signals over (and after, as it re-raises them on its way
    # out), a stop request ends the worker quietly, without a traceback.
    signal.signal(signal.SIGTERM, _stop_quietly)
    signal.signal(signal.SIGINT, _stop_quietly)
    # The parent said which workspace is served; the embedded one's notice is not repeated.
    logging.getLogger("tracking.config").setLevel(logging.ERROR)
    if sock.proto != socket.IPPROTO_TCP:  # asyncio sets TCP_NODELAY only on such sockets
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    from tracking.errors import TrackingError

    try:
        workspace, app = build_app(spec)
    except TrackingError as err:
        print(f"tracking-portal: worker: {err}", file=sys.stderr, flush=True)
        sys.exit(EXIT_WORKER_FAILED)
    try:
        serve(app, sock, spec.threads)
    finally:
        workspace.close()


class Supervisor:
    """Starts a worker per listening socket, waits for a stop signal or a worker's end, and
    stops all.

    Args:
        spec: what each worker builds its app from.
        sockets: each worker's listening socket, bound by the caller (one socket may be
            given for several workers, who then share it).
    """

    def __init__(self, spec: AppSpec, sockets: Sequence[socket.socket]) -> None:
        self._spec = spec
        self._sockets = list(sockets)
        self._stop_signal: int | None = None
        self.workers: list[BaseProcess] = []

    def run(self) -> int:
        """Serve until told to stop; the exit code: 0 when stopped by a signal, else 1."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._start()
            failed = self._wait()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed is not None:
            print(
                f"tracking-portal: worker {failed.pid} ended (exit code {failed.exitcode}); "
                "stopped the others",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_WORKER_FAILED
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop_signal = signum

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for number, sock in enumerate(self._sockets):
            if self._stop_signal is not None:
                return
            worker = context.Process(
                target=_worker,
                args=(self._spec, sock),
                name=f"tracking-portal-worker-{number + 1}",
                daemon=False,
            )
            worker.start()
            self.workers.append(worker)

    def _wait(self) -> BaseProcess | None:
        """Until a stop signal (None) or a worker's end (that worker)."""
        while self._stop_signal is None:
            ended = wait([w.sentinel for w in self.workers], timeout=0.2)
            if ended:
                return next(w for w in self.workers if w.sentinel in ended)
        return None

    def _stop_all(self) -> None:
        """SIGTERM each live worker by its pid, then SIGKILL any left after STOP_SECONDS."""
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers:
            if worker.is_alive():
                worker.kill()
                worker.join()
