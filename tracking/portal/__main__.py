"""`python -m tracking.portal` (or `tracking-portal`): serve a workspace's portal with uvicorn.

This is the portal's only reader of the environment: `TRACKING_PORTAL_TOKEN` stands in for
`--token` and `--token-file`. A token has at least 32 characters, wherever it comes from;
one given with `--token` is visible to every user of the machine (`ps`, /proc/PID/cmdline),
so the program warns about it. Bad input (a malformed config, a port in use, a public
address without a token, a short token) ends the program with one line on stderr and a
non-zero exit code, not a traceback.

`--workers N` serves from N processes on one port (see `tracking.portal.workers`); the
default, 1, serves from this process.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from tracking.portal.downloads import MAX_DOWNLOADS
from tracking.portal.security import MIN_TOKEN_LENGTH

TOKEN_VARIABLE = "TRACKING_PORTAL_TOKEN"
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 1
MAX_WORKERS = 64


class PortalExit(Exception):
    """Stop with this one-line message and exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise PortalExit(f"tracking-portal: {message} (see --help)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="tracking-portal",
        description="Serve the experiments, runs, charts and files of a workspace in the browser.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the workspace's config.json or its folder (default: as Workspace.from_config())",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to listen on (default: %(default)s; 0: any free)",
    )
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--token",
        help=f"access token every request must carry, at least {MIN_TOKEN_LENGTH} characters "
        f"(default: ${TOKEN_VARIABLE}); required on any address but loopback. Other users of "
        "this machine can read it in the process list: prefer --token-file or the variable",
    )
    given.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the access token from this file (surrounding whitespace and the final "
        "newline are dropped); keep it readable by you alone (chmod 600)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name browsers reach the portal by (repeatable); on 0.0.0.0 or :: any "
        "name is accepted, since the token guards every request",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=3.0,
        help="seconds between the experiment page's polls (default: %(default)s)",
    )
    parser.add_argument(
        "--max-downloads",
        type=int,
        default=MAX_DOWNLOADS,
        metavar="N",
        help="file downloads served at once; one more is answered 503 with Retry-After "
        f"(default: {MAX_DOWNLOADS})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes serving requests, each with its own connection to the workspace "
        "(default: %(default)s; more use more cores under many concurrent users)",
    )
    return parser.parse_args(argv)


def allowed_hosts(host: str, extra: Sequence[str], *, token: str | None) -> list[str]:
    """The Host names to answer as: loopback names, the listening host, and `extra`."""
    names = ["127.0.0.1", "localhost", "::1", *extra]
    if _is_wildcard(host):
        names.append("*" if token else host)
    else:
        names.append(host)
    return names


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that a port in use is one clear message."""
    try:
        return _listen(host.strip("[]"), port)
    except OSError as err:
        raise PortalExit(
            f"tracking-portal: cannot listen on {host}:{port}: {err.strerror or err}",
            EXIT_UNAVAILABLE,
        ) from None


def _listen(host: str, port: int, *, balanced: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on such sockets, and without it
    # Nagle holds each kept-alive response until the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if balanced:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _worker_sockets(sock: socket.socket, count: int) -> list[socket.socket]:
    """A listening socket per worker on `sock`'s address, which is closed.

    Workers sharing one socket do not share its connections: a worker woken by a burst
    accepts every connection waiting, and 50 clients that connect at once are all served
    by one worker while the others idle. On Linux each worker gets a socket of its own on
    the port (`SO_REUSEPORT`), and the kernel spreads new connections across them. The
    port, checked free by `_bind`, changes hands in between; should another process take
    it meanwhile, the portal stops with the same message as for a port in use. Elsewhere
    the workers share `sock`.
    """
    if count == 1 or not sys.platform.startswith("linux"):
        return [sock] * count
    host, port = sock.getsockname()[:2]
    sock.close()
    made: list[socket.socket] = []
    try:
        for _ in range(count):
            made.append(_listen(host, port, balanced=True))
    except OSError as err:
        for done in made:
            done.close()
        raise PortalExit(
            f"tracking-portal: cannot listen on {host}:{port}: {err.strerror or err}",
            EXIT_UNAVAILABLE,
        ) from None
    return made


def _read_token_file(path: str) -> tuple[str, int]:
    """The token in the file at `path`, stripped, and the file's mode."""
    try:
        with open(path, encoding="utf-8") as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read(64 * 1024)
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise PortalExit(f"tracking-portal: cannot read the token file {path}: {reason}") from None
    if not text.strip():
        raise PortalExit(
            f"tracking-portal: the token file {path} is empty: write a token of at least "
            f"{MIN_TOKEN_LENGTH} characters in it"
        )
    return text.strip(), mode


def _check_token(token: str, source: str) -> str:
    """`token` if it is long enough and has no spaces or control characters."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise PortalExit(
            f"tracking-portal: the access token from {source} has {len(token)} characters: use "
            f"at least {MIN_TOKEN_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)"
        )
    if any(c.isspace() or not c.isprintable() for c in token):
        raise PortalExit(
            f"tracking-portal: the access token from {source} has spaces or control "
            "characters: use printable characters without spaces"
        )
    return token


def access_token(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """The token of `--token`, `--token-file` or the environment, checked; None if none."""
    if args.token is not None:
        token = _check_token(args.token, "--token")
        _warn(
            "a token given with --token can be read by every user of this machine (ps, "
            f"/proc/PID/cmdline): use --token-file PATH or {TOKEN_VARIABLE} instead"
        )
        return token
    if args.token_file is not None:
        text, mode = _read_token_file(args.token_file)
        token = _check_token(text, f"the token file {args.token_file}")
        if mode & 0o044:  # warned, not refused: mounted secrets are often 0644
            _warn(
                f"the token file {args.token_file} can be read by other users "
                f"(mode {mode & 0o777:o}): chmod 600 it"
            )
        return token
    if environ.get(TOKEN_VARIABLE):
        return _check_token(environ[TOKEN_VARIABLE], f"${TOKEN_VARIABLE}")
    return None


def _warn(message: str) -> None:
    print(f"tracking-portal: warning: {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str] | None, environ: Mapping[str, str]) -> int:
    """Serve as `argv` says until stopped; the exit code."""
    args = parse_args(argv)
    token = access_token(args, environ)
    if not is_loopback(args.host) and not token:
        raise PortalExit(
            f"tracking-portal: refusing to listen on {args.host} without an access token: "
            f"pass --token-file PATH or set {TOKEN_VARIABLE} (or listen on 127.0.0.1)"
        )
    if not 0 <= args.port <= 65535:
        raise PortalExit(f"tracking-portal: port {args.port} is not accepted: use 0 to 65535")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise PortalExit(
            f"tracking-portal: --workers {args.workers} is not accepted: use 1 to {MAX_WORKERS}"
        )
    try:
        import uvicorn  # noqa: F401  (the workers import it; a missing one is said here)

        from tracking.portal.workers import AppSpec, Supervisor, build_app, serve
    except ModuleNotFoundError as err:
        raise PortalExit(
            f"tracking-portal: the portal needs {err.name}, which raysweep installs: "
            "pip install --force-reinstall raysweep"
        ) from None
    from tracking.errors import TrackingError

    spec = AppSpec(
        config=args.config,
        token=token,
        allowed_hosts=tuple(allowed_hosts(args.host, args.allowed_host, token=token)),
        refresh_seconds=args.refresh,
        max_downloads=args.max_downloads,
    )
    try:
        # Built here with one worker or many: a bad config or workspace is one line from
        # this process, not one from each worker.
        workspace, app = build_app(spec)
    except TrackingError as err:
        raise PortalExit(f"tracking-portal: {err}") from None
    try:
        sockets = _worker_sockets(_bind(args.host, args.port), args.workers)
    except PortalExit:
        workspace.close()
        raise
    port = sockets[0].getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    workers = f" ({args.workers} workers)" if args.workers > 1 else ""
    print(
        f"tracking-portal: workspace {workspace.name!r} at http://{shown}:{port}/"
        + (" (token required)" if token else "")
        + workers,
        file=sys.stderr,
        flush=True,
    )
    try:
        if args.workers == 1:
            serve(app, sockets[0], spec.threads)
            return 0
        workspace.close()  # each worker opens its own
        return Supervisor(spec, sockets).run()
    finally:
        for sock in set(sockets):
            sock.close()
        workspace.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The console script's entry point; returns the exit code."""
    try:
        return run(argv, os.environ)
    except PortalExit as stop:
        print(stop, file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
