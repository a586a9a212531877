"""Bearer JWT (header or `session_token` cookie) through Litestar's JWT backend; roles and
gateway scoping; the gateway context every API request names with X-Gateway-ID."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Self

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTCookieAuth, JWTCookieAuthenticationMiddleware, Token

from domain.errors import ValidationFailed
from domain.identity import check_gateway_id
from interfaces.api.request_body import refuse_nul
from interfaces.api.request_query import refuse_repeated

ROLES = ("viewer", "operator", "admin")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
RANK = {role: rank for rank, role in enumerate(ROLES)}
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    gateways: tuple[str, ...]  # ("*",) for every gateway

    def may_see(self, gateway_id: str) -> bool:
        return "*" in self.gateways or gateway_id in self.gateways

    @property
    def allowed(self) -> list[str] | None:
        return None if "*" in self.gateways else list(self.gateways)


def issue_token(secret: str, *, subject: str, role: str, gateways: list[str], ttl: timedelta) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = Token(
        sub=subject, exp=datetime.now(timezone.utc) + ttl, extras={"role": role, "gateways": gateways}
    )
    return token.encode(secret, ALGORITHM)


class VerifiedToken(Token):
    """Litestar's Token, remembering tokens it has verified: a client sends the same token with
    every request, and verifying the HMAC and claims each time costs more than the rest of a
    cached read. The expiry is still checked on every use."""

    _verified: ClassVar[OrderedDict[tuple[Any, ...], Token]] = OrderedDict()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def decode(cls, encoded_token: str, secret: str, algorithm: str, *args: Any, **kwargs: Any) -> Self:
        key = (encoded_token, secret, algorithm, args, tuple(sorted(kwargs.items())))
        with cls._lock:
            token = cls._verified.get(key)
        if token is not None and token.exp > datetime.now(timezone.utc):
            return token  # type: ignore[return-value]
        token = super().decode(encoded_token, secret, algorithm, *args, **kwargs)
        with cls._lock:
            cls._verified[key] = token
            while len(cls._verified) > 4096:
                cls._verified.popitem(last=False)
        return token


async def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    role = token.extras.get("role")
    gateways = token.extras.get("gateways")
    if role not in ROLES or not isinstance(gateways, list) or not all(isinstance(g, str) for g in gateways):
        return None
    return Principal(subject=token.sub, role=role, gateways=tuple(gateways))


class BearerOrCookieMiddleware(JWTCookieAuthenticationMiddleware):
    """Litestar's cookie middleware takes whatever follows the first space of `Authorization`
    whatever the scheme, so `Basic <jwt>` passed as Bearer. Only the Bearer scheme (any case, as
    RFC 7235 has it) or, without an Authorization header, the session cookie authenticates."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get(self.auth_header)
        if header is not None:
            scheme, _, encoded = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not encoded.strip():
                raise NotAuthorizedException("Authorization must use the Bearer scheme")
            return await self.authenticate_token(encoded_token=encoded.strip(), connection=connection)
        encoded = connection.cookies.get(self.auth_cookie_key, "").split(" ")[-1]
        if not encoded:
            raise NotAuthorizedException("No JWT token found in request header or cookies")
        return await self.authenticate_token(encoded_token=encoded, connection=connection)


def jwt_auth(secret: str, exclude: list[str]) -> JWTCookieAuth[Principal]:
    return JWTCookieAuth[Principal](
        retrieve_user_handler=_principal,
        token_secret=secret,
        algorithm=ALGORITHM,
        key="session_token",
        token_cls=VerifiedToken,
        authentication_middleware_class=BearerOrCookieMiddleware,
        exclude=exclude,
        exclude_http_methods=["OPTIONS"],  # HEAD too must carry a token (Litestar exempts it by default)
        samesite="strict",
    )


def authorize(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[Principal, str]:
    """The one authorization check of the API: the caller holds at least the role the route
    declares in its `opt` (viewer < operator < admin) and the token grants the gateway the request
    names with X-Gateway-ID. Litestar's guards would do the role part, at the price of a copy of
    the route handler per call (docs/decisions.md)."""
    user = connection.scope.get("user")  # absent, not an error, where the auth middleware did not run
    if not isinstance(user, Principal):
        raise NotAuthorizedException("A valid bearer token is required")
    needed = connection.route_handler.opt["role"]
    if RANK[user.role] < RANK[needed]:
        raise PermissionDeniedException(f"This needs the {needed} role; the token has {user.role}")
    gateway_id = connection.headers.get("x-gateway-id")
    if not gateway_id:
        raise ValidationFailed("The X-Gateway-ID header is required", {"field": "X-Gateway-ID", "reason": "missing"})
    check_gateway_id(gateway_id)
    if not user.may_see(gateway_id):
        raise PermissionDeniedException(f"The token does not grant gateway {gateway_id}")
    return user, gateway_id


def same_gateway(context: str, named: str | None, field: str = "gateway_id") -> None:
    """A gateway named in a body or query must be the context's: nothing crosses gateways."""
    if named is not None and named != context:
        raise PermissionDeniedException(
            f"{field} {named!r} differs from the X-Gateway-ID context {context!r}"
        )


async def authorize_request(request: Request[Any, Any, Any]) -> None:
    """The API router's `before_request` hook: it runs before parameters and body are parsed, so
    a caller without the role or the gateway learns nothing of what the route would accept. Its
    verdict is what the `ctx` dependency hands to the handler. OPTIONS (a CORS preflight carries
    no credentials) reaches only Litestar's own answer, the Allow header, which reveals nothing."""
    if request.method == "OPTIONS":
        return
    request.state.caller = authorize(request)
    refuse_repeated(key for key, _ in request.query_params.multi_items())
    if request.method in _WITH_BODY:  # then the body, read once (Litestar keeps it for the route)
        refuse_nul(await request.body())
