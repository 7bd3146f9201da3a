"""The portal's guard: Host check, access token, unsafe-method check and security headers.

One ASGI middleware in front of every route, static files included:
- a request whose `Host` is not one the portal is served as is refused (DNS rebinding: a
  foreign page whose name resolves to 127.0.0.1 must not read the portal);
- with a token, every request needs it: `Authorization: Bearer <token>`, the cookie set when
  a page was opened with `?token=<token>`, or that query parameter itself;
- a request with a method other than GET/HEAD/OPTIONS from another origin, or with a body type
  a cross-site form may send without a preflight (`text/plain`, forms), is refused;
- every answer carries headers that forbid framing, sniffing and foreign scripts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_TOKEN_LENGTH = 32  # a token shorter than this is refused, however it is given

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
COOKIE = "tracking_portal"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The body types a page of another site may POST without a CORS preflight.
SIMPLE_BODY_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
}


def host_name(host_header: str) -> str:
    """The name part of a `Host` header: 'localhost:8080' -> 'localhost', '[::1]:80' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def cookie_value(token: str) -> str:
    """What the browser keeps: derived from the token, so the cookie never holds the token."""
    return hmac.new(token.encode(), b"tracking-portal-cookie", hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class PortalGuard:
    """ASGI middleware that applies the portal's security rules to every HTTP request.

    Args:
        app: the app to guard.
        token: the access token every request must carry, or None for none.
        allowed_hosts: the host names the portal answers as; '*' allows any (only sensible
            with a token).
    """

    def __init__(self, app: ASGIApp, *, token: str | None, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_value(token) if token else None
        self.allowed_hosts = {h.lower().strip("[]") for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = _headers(scope)
        host = host_name(headers.get("host", ""))
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            return _error(scope, 400, f"host {host!r} is not served here")
        method = scope["method"]
        if method not in SAFE_METHODS:
            problem = _unsafe_request_problem(headers)
            if problem:
                return _error(scope, 403, problem)
        if self.token is None or self.cookie is None:
            return None
        return _token_refusal(scope, headers, self.token, self.cookie)


def _token_refusal(
    scope: Scope, headers: dict[str, str], token: str, cookie: str
) -> Response | None:
    """None if the request carries the token (header, cookie or query), else the answer."""
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _same(bearer.strip(), token):
        return None
    cookies: SimpleCookie = SimpleCookie()
    with contextlib.suppress(CookieError):  # a malformed cookie header is no cookie
        cookies.load(headers.get("cookie", ""))
    if COOKIE in cookies and _same(cookies[COOKIE].value, cookie):
        return None
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    given = [value for key, value in query if key == "token"]
    if given and _same(given[-1], token):
        if scope["path"].startswith("/api/") or scope["method"] != "GET":
            return None
        # A page opened with ?token=: keep it in a cookie and drop it from the address bar.
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        # One leading slash: '//host/...' would send the browser to another site.
        target = (
            "/" + (scope.get("root_path", "") + path).lstrip("/") + (f"?{rest}" if rest else "")
        )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax", path="/")
        return response
    return _error(
        scope,
        401,
        "this portal needs its access token: send 'Authorization: Bearer <token>', "
        "or open the page once with ?token=<token>",
        {"WWW-Authenticate": 'Bearer realm="tracking portal"'},
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _unsafe_request_problem(headers: dict[str, str]) -> str | None:
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        if urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
            return f"cross-origin request from {origin!r} refused"
    elif origin == "null" or headers.get("sec-fetch-site") == "cross-site":
        return "cross-origin request refused"
    body_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body_type in SIMPLE_BODY_TYPES:
        return f"requests with a {body_type!r} body are refused: send JSON"
    return None


def _error(
    scope: Scope, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if scope["path"].startswith("/api/"):
        return JSONResponse({"error": message}, status, headers=headers)
    return PlainTextResponse(message, status, headers=headers)


def _with_security_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for key, value in SECURITY_HEADERS.items():
                headers.setdefault(key, value)
        await send(message)

    return wrapped
