"""Who is calling: a Principal from a signed JWT, whichever channel carried it (the Bearer
`Authorization` header, the `session_token` cookie, a WebSocket's first message)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Self

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import (
    JWTCookieAuth,
    JWTCookieAuthenticationMiddleware,
    Token,
)

ROLES = ("viewer", "operator", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
ALGORITHM = "HS256"
SESSION_COOKIE = "session_token"


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


def _claims(token: Token) -> Principal | None:
    role = token.extras.get("role")
    gateways = token.extras.get("gateways")
    if role not in ROLES or not isinstance(gateways, list) or not all(isinstance(g, str) for g in gateways):
        return None
    return Principal(subject=token.sub, role=role, gateways=tuple(gateways))


async def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return _claims(token)


def principal_from_token(encoded: Any, secret: str) -> Principal:
    """The principal of a token that came without HTTP (a WebSocket's first message): checked as
    the middleware checks a header's. NotAuthorizedException when it is missing or invalid."""
    if not isinstance(encoded, str) or not encoded.strip():
        raise NotAuthorizedException("A valid token is required")
    token = VerifiedToken.decode(encoded.strip(), secret, ALGORITHM)  # raises NotAuthorizedException
    principal = _claims(token)
    if principal is None:
        raise NotAuthorizedException("The token carries no valid role and gateways")
    return principal


def token_expiry(encoded: str, secret: str) -> datetime:
    """When a token already checked (`principal_from_token`) expires (UTC): a WebSocket closes then."""
    return VerifiedToken.decode(encoded.strip(), secret, ALGORITHM).exp  # type: ignore[no-any-return]


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
    """HTTP only: a WebSocket authenticates with its first message (`channels.authenticated_socket`),
    as a browser cannot set headers on one."""
    return JWTCookieAuth[Principal](
        retrieve_user_handler=_principal,
        token_secret=secret,
        algorithm=ALGORITHM,
        key=SESSION_COOKIE,
        token_cls=VerifiedToken,
        authentication_middleware_class=BearerOrCookieMiddleware,
        exclude=exclude,
        exclude_http_methods=["OPTIONS"],  # HEAD too must carry a token (Litestar exempts it by default)
        samesite="strict",
        scopes={ScopeType.HTTP},
    )
