"""The Litestar application factory: routes under /api/v1/scheduler, auth, errors, OpenAPI."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig

from interfaces.api.catalog import Catalog
from interfaces.api.dependencies import DEPENDENCIES
from interfaces.api.executions import Analytics, ExecutionQueries
from interfaces.api.gateways import Gateways
from interfaces.api.job_commands import JobCommands
from interfaces.api.job_queries import JobQueries
from interfaces.api.job_runs import JobRuns
from interfaces.api.status import Health, Status
from interfaces.auth import ROLES, jwt_auth
from interfaces.errors import handle_exception
from interfaces.logs import configure_logging, request_log_middleware
from interfaces.runtime import Runtime

API_PREFIX = "/api/v1/scheduler"
MAX_BODY = 1024 * 1024


def create_app(runtime: Runtime, *, owns_runtime: bool = False) -> Litestar:
    """`owns_runtime`: close the runtime (worker, pools, embedded database) when the server shuts
    down, inside the lifespan, before the server re-raises the signal that stopped it."""
    configure_logging(runtime.settings.log_json)
    api = Router(path=API_PREFIX, route_handlers=[
        JobQueries, JobCommands, JobRuns, ExecutionQueries, Analytics, Catalog, Gateways, Status,
    ])
    auth = jwt_auth(runtime.settings.secret(), exclude=["^/healthz", "^/readyz", "^/metrics", "^/schema"])
    app = Litestar(
        route_handlers=[api, Health],
        dependencies=DEPENDENCIES,
        exception_handlers={Exception: handle_exception},
        middleware=[request_log_middleware],
        logging_config=None,  # ours (configure_logging): Litestar's default re-formats the root logger
        on_app_init=[auth.on_app_init],
        openapi_config=OpenAPIConfig(title="gateway-scheduler", version="1.0.0", path="/schema"),
        request_max_body_size=MAX_BODY,
        debug=False,
        on_shutdown=[runtime.close] if owns_runtime else [],
    )
    app.state.runtime = runtime
    check_authorized(app)
    return app


def check_authorized(app: Litestar) -> None:
    """Every API route declares the role it needs and takes `ctx`, whose resolution authorizes the
    request (role and gateway): a route that would skip that check stops the service at start."""
    for route in app.routes:
        if not route.path.startswith(API_PREFIX):
            continue
        for handler in getattr(route, "route_handlers", ()):
            if handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's own answer to OPTIONS: no data
            if handler.opt.get("role") not in ROLES or "ctx" not in handler.parsed_fn_signature.parameters:
                raise RuntimeError(f"API route {route.path} ({handler.handler_name}) must declare opt role and take ctx")
