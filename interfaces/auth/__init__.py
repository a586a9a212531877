"""Authorization by channel: who is calling (`tokens`: a principal from a Bearer token, the
session cookie or a WebSocket's first message), in which gateway context (`context`: a header, the
page's selection or the server's own gateway, within the token's grants), and how each channel
answers a refusal (`channels`: the API's envelope, the page's redirect to /login, a socket's close)."""

from interfaces.auth.channels import authenticated_socket, is_page, login_redirect
from interfaces.auth.context import (
    authorize,
    authorize_page,
    authorize_request,
    gateway_context,
    require_role,
    same_gateway,
)
from interfaces.auth.tokens import (
    ALGORITHM,
    RANK,
    ROLES,
    Principal,
    issue_token,
    jwt_auth,
    principal_from_token,
)

__all__ = [
    "ALGORITHM", "RANK", "ROLES", "Principal", "authenticated_socket", "authorize", "authorize_page",
    "authorize_request", "gateway_context", "is_page", "issue_token", "jwt_auth", "login_redirect",
    "principal_from_token", "require_role", "same_gateway",
]
