"""The page's routes: sign-in (/login), sign-out (/logout), the page itself
(/scheduler-automation) and the short-lived token its live feed reconnects with."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.response import Template

from interfaces.auth import authorize_page
from interfaces.auth.sessions import (
    LOGIN_CSRF_COOKIE,
    cleared_cookie,
    csrf_refusal,
    csrf_token,
    is_secure,
    local_next,
    redirect,
    session_cookie,
    session_token,
    socket_token,
)
from interfaces.auth.tokens import SESSION_COOKIE
from interfaces.auth.users import Users
from interfaces.page.sections import embedded

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
# No inline script or style anywhere: the page's code is its modules under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {ws}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
PAGE_OPT = {"role": "viewer", "channel": "page"}


def _headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    host = request.headers.get("host", "")
    ws = f"ws://{host} wss://{host}" if host else ""
    return {
        "Content-Security-Policy": CSP.format(ws=ws).replace("'self' ;", "'self';"),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def _users(request: Request[Any, Any, Any]) -> Users:
    return Users(request.app.state.runtime.url)


def _form(request: Request[Any, Any, Any], *, status: int = 200, error: str = "", username: str = "",
          next_path: str = "", retry_after: int | None = None) -> Template:
    """The sign-in form, with a fresh double-submit token in a cookie and a hidden field."""
    token = secrets.token_urlsafe(24)
    headers = _headers(request)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Template(
        "login.html",
        context={"error": error, "username": username, "next": next_path, "csrf": token},
        status_code=status, headers=headers,
        cookies=[Cookie(key=LOGIN_CSRF_COOKIE, value=token, path="/login", httponly=True, samesite="strict",
                        secure=is_secure(request), max_age=3600)],
    )


class Login(Controller):
    """Public routes: no session is needed to sign in or out. Not in the OpenAPI document, which
    describes the API (docs/api.md describes these)."""

    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def login_form(self, request: Request[Any, Any, Any]) -> Template:
        """The sign-in form; `next` is where a successful sign-in goes (a local path only)."""
        return _form(request, next_path=local_next(request.query_params.get("next")))

    @post("/login")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any] | Template:
        """Checks the password; sets the session cookie and goes to `next`. Repeated failures for
        a user or an address are answered 429 until their delay has passed, unheard."""
        return await sync_to_thread(_sign_in, request, dict(await request.form()))

    @post("/logout")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Clears the session cookie (the form carries the session's CSRF token) and goes to /login."""
        form = await request.form()
        session = request.cookies.get(SESSION_COOKIE, "")
        given = str(form.get("csrf_token", "")) or request.headers.get("x-csrf-token", "")
        secret = request.app.state.runtime.settings.secret()
        if session and not hmac.compare_digest(given, csrf_token(secret, session)):
            return Response("The sign-out form is not this session's", status_code=403, media_type="text/plain")
        return redirect("/login", [cleared_cookie(secure=is_secure(request))])


def _sign_in(request: Request[Any, Any, Any], form: dict[str, Any]) -> Response[Any] | Template:
    """The sign-in's checks, off the event loop (argon2 and the database)."""
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    next_path = local_next(str(form.get("next", "")) or None)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, str(form.get("csrf_token", ""))):
        return _form(request, status=403, error="The form expired; sign in again.", username=username,
                     next_path=next_path)
    runtime = request.app.state.runtime
    users, now = _users(request), runtime.clock()
    address = request.client.host if request.client else "unknown"
    keys = [f"user:{username}", f"address:{address}"]
    wait = users.wait_needed(keys, now)
    if wait.total_seconds() > 0:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        return _form(request, status=429, error=f"Too many failed sign-ins: try again in {seconds} s.",
                     username=username, next_path=next_path, retry_after=seconds)
    user = users.verify(username, password) if username and password else None
    if user is None:
        users.record_failure(keys, now)
        return _form(request, status=401, error="Wrong username or password.", username=username,
                     next_path=next_path)
    users.clear_failures(keys)
    token = session_token(runtime.settings.secret(), user)
    return redirect(next_path, [session_cookie(token, secure=is_secure(request)),
                                Cookie(key=LOGIN_CSRF_COOKIE, value="", path="/login", max_age=0)])


class Page(Controller):
    opt = PAGE_OPT
    include_in_schema = False

    @get("/scheduler-automation", before_request=authorize_page, sync_to_thread=True)
    def page(self, request: Request[Any, Any, Any]) -> Template:
        """The whole scheduler interface, its data embedded; 302 to /login without a session."""
        principal, gateway_id = request.state.caller
        runtime = request.app.state.runtime
        secret = runtime.settings.secret()
        csrf = csrf_token(secret, request.cookies.get(SESSION_COOKIE, ""))
        feed_token = socket_token(secret, principal.subject, principal.role, list(principal.gateways))
        data = embedded(runtime, principal, gateway_id, csrf=csrf, socket_token=feed_token)
        return Template("page.html", context={"data": data, "csrf": csrf, "user": principal, "gateway_id": gateway_id},
                        headers=_headers(request), media_type="text/html")

    @post("/session/socket-token", before_request=authorize_page, status_code=200)
    async def feed_token(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        """A fresh short-lived token for the live feed's first message (the page reconnecting)."""
        principal, _ = request.state.caller
        secret = request.app.state.runtime.settings.secret()
        refusal = csrf_refusal(request, secret)
        if refusal:
            raise PermissionDeniedException(f"CSRF: {refusal}")
        return {"token": socket_token(secret, principal.subject, principal.role, list(principal.gateways))}
