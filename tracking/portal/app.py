"""`create_app(workspace)`: the portal as an ASGI app, with its routes, guard and error pages."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from tracking.errors import (
    ConfigError,
    IntegrityError,
    NotFoundError,
    StorageError,
    TrackingError,
    ValidationError,
)
from tracking.portal import api, pages
from tracking.portal.charts import ChartCache
from tracking.portal.downloads import MAX_DOWNLOADS, STALL_SECONDS, DownloadSlots
from tracking.portal.encode import PortalJSONResponse
from tracking.portal.history import HistoryCache
from tracking.portal.security import LOOPBACK_HOSTS, MIN_TOKEN_LENGTH, PortalGuard
from tracking.portal.templating import STATIC, make_templates
from tracking.portal.threads import page_threads

if TYPE_CHECKING:
    from tracking.workspace import Workspace

# Which HTTP status answers which error of `tracking`; the first match wins.
_STATUS_OF: tuple[tuple[type[TrackingError], int], ...] = (
    (ValidationError, 400),
    (NotFoundError, 404),
    (IntegrityError, 409),
    (StorageError, 503),
)


def create_app(
    workspace: Workspace,
    *,
    token: str | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    refresh_seconds: float = 3.0,
    max_downloads: int = MAX_DOWNLOADS,
    stalled_download_seconds: float = STALL_SECONDS,
) -> Starlette:
    """The portal of `workspace`: pages under /, the JSON API under /api, files in /static.

    Args:
        workspace: whose experiments and runs are shown.
        token: if given, every request must carry it (see `tracking.portal.security`).
        allowed_hosts: the host names the portal answers as (`Host` header, port aside);
            '*' allows any; '*' or an IP address other than loopback is refused without a
            token.
        refresh_seconds: how often the experiment page polls for new runs and values.
        max_downloads: how many file downloads may be in progress at once; one more is
            answered 503 with Retry-After.
        stalled_download_seconds: how long a download's client may stop reading before
            the download is ended (and its place freed).

    Raises:
        ConfigError: an empty or short token (under 32 characters), '*' or a non-loopback
            address without a token, a
            refresh period <= 0, max_downloads < 1 or stalled_download_seconds <= 0.
    """
    hosts = list(allowed_hosts)
    if token is not None and (not token.strip() or token != token.strip()):
        raise ConfigError("the portal token must be non-empty text without surrounding spaces")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the portal token has {len(token)} characters: a token has at least "
            f"{MIN_TOKEN_LENGTH} (secrets.token_urlsafe(32) makes one)"
        )
    if token is None:
        exposed = [h for h in hosts if h == "*" or not _loopback_or_name(h)]
        if exposed:
            raise ConfigError(
                f"serving the portal as {', '.join(map(repr, exposed))} (any host, or an address "
                "other than loopback) needs a token: pass token=..."
            )
    if not refresh_seconds > 0:
        raise ConfigError(f"refresh_seconds {refresh_seconds!r} is not accepted: use a number > 0")
    download_slots = DownloadSlots(max_downloads, stalled_download_seconds)
    app = Starlette(
        routes=[
            *pages.ROUTES,
            *api.ROUTES,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(PortalGuard, token=token, allowed_hosts=hosts)],
        exception_handlers={TrackingError: _tracking_error, HTTPException: _http_error},
    )
    app.state.workspace = workspace
    app.state.templates = make_templates()
    app.state.refresh_seconds = refresh_seconds
    app.state.chart_cache = ChartCache()
    app.state.history_cache = HistoryCache()
    app.state.download_slots = download_slots
    app.state.page_threads = page_threads()
    return app


def _loopback_or_name(host: str) -> bool:
    """False for an IP address other than loopback (0.0.0.0 and :: included)."""
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return True  # a host name: only its owner's resolver knows where it points


def _answer(request: Request, status: int, message: str) -> Response:
    """The API's JSON error, or for a page the error page: whatever the status (an
    unreadable or unreachable database too, 503), the page says what is wrong."""
    if request.url.path.startswith("/api/"):
        return PortalJSONResponse({"error": message}, status)
    try:
        response: Response = request.app.state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "status": status,
                "message": message,
                "workspace_name": request.app.state.workspace.name,
            },
            status_code=status,
        )
    except Exception:  # a page that fails must not hide the error it was to show
        return PlainTextResponse(message, status)
    return response


async def _tracking_error(request: Request, exc: Exception) -> Response:
    status = next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), 500)
    return _answer(request, status, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    response = _answer(request, exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response
