"""Page sessions: the `session_token` cookie (the same JWT the API accepts), the CSRF token bound
to it, the short-lived token the page's live feed authenticates with, and where a sign-in may
send the user back to (local paths only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie

from interfaces.auth.tokens import SESSION_COOKIE, issue_token
from interfaces.auth.users import User

SESSION_TTL = timedelta(hours=8)
SOCKET_TOKEN_TTL = timedelta(minutes=5)
CSRF_HEADER = "x-csrf-token"
LOGIN_CSRF_COOKIE = "login_csrf"  # the sign-in form's own double-submit token (no session yet)
PAGE = "/scheduler-automation"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of its cookie, so only a page rendered for that
    session knows it, and no server state is kept (a forged cookie cannot carry a matching one)."""
    digest = hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_authenticated(request: Request[Any, Any, Any]) -> bool:
    """True when the request's credentials are the session cookie (no Authorization header)."""
    return "authorization" not in request.headers and bool(request.cookies.get(SESSION_COOKIE))


def csrf_refusal(request: Request[Any, Any, Any], secret: str) -> str | None:
    """Why an unsafe, cookie-authenticated request is refused (None when it may go on). A Bearer
    client is never asked: a browser does not attach its header on its own."""
    if request.method in _SAFE or not cookie_authenticated(request):
        return None
    given = request.headers.get(CSRF_HEADER, "")
    if not given:
        return "the X-CSRF-Token header is missing"
    if not hmac.compare_digest(given, csrf_token(secret, request.cookies[SESSION_COOKIE])):
        return "the X-CSRF-Token header does not match the session"
    return None


def is_secure(request: Request[Any, Any, Any]) -> bool:
    """Behind https, directly or through a proxy that says so."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def session_token(secret: str, user: User) -> str:
    return issue_token(secret, subject=user.username, role=user.role, gateways=list(user.gateways), ttl=SESSION_TTL)


def socket_token(secret: str, subject: str, role: str, gateways: list[str]) -> str:
    """What the page's live feed sends as its first message: the HttpOnly cookie is out of reach
    of JavaScript, so the page is given a token of the same grants that lives minutes."""
    return issue_token(secret, subject=subject, role=role, gateways=gateways, ttl=SOCKET_TOKEN_TTL)


def session_cookie(token: str, *, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="lax", secure=secure,
        max_age=int(SESSION_TTL.total_seconds()),
    )


def cleared_cookie(*, secure: bool) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path="/", httponly=True, samesite="lax", secure=secure, max_age=0)


def local_next(raw: str | None) -> str:
    """`next` when it is a path on this site, else the page: no scheme, no host, no `//` or
    backslash that a browser would read as another host, no control characters."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return PAGE
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return PAGE
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return PAGE
    return raw


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    return Response(b"", status_code=303, headers={"Location": location}, cookies=cookies or [])
