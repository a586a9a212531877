"""The Litestar application factory: routes under /api/v1/scheduler, auth, errors, OpenAPI."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar, Router
from litestar.concurrency import get_asyncio_executor, set_asyncio_executor
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.api.bulk import BulkOperations, ExecutionGroups
from interfaces.api.catalog import Catalog
from interfaces.api.conflicts import Conflicts
from interfaces.api.dependencies import DEPENDENCIES
from interfaces.api.executions import Analytics, ExecutionQueries
from interfaces.api.gateways import Gateways
from interfaces.api.history import AuditQueries, JobRevert, Operations
from interfaces.api.job_commands import JobCommands
from interfaces.api.job_queries import JobQueries
from interfaces.api.job_runs import JobRuns
from interfaces.api.live_stream import LiveStream
from interfaces.api.openapi import WireJsonRenderPlugin
from interfaces.api.status import Health, Status
from interfaces.api.transfer import Export, Import
from interfaces.auth import ROLES, authenticated_socket, authorize_page, authorize_request, jwt_auth
from interfaces.auth.channels import PAGE
from interfaces.errors import handle_exception
from interfaces.logs import configure_logging, flush_logs, request_log_middleware
from interfaces.page.routes import STATIC, TEMPLATES, Login, Page
from interfaces.runtime import Runtime
from interfaces.ws.feed import live_feed
from interfaces.ws.hub import FeedHub

API_PREFIX = "/api/v1/scheduler"
MAX_BODY = 1024 * 1024
# The threads that run the sync route handlers (docs/decisions.md 327, superseding 280). Litestar's
# default is the event loop's executor, min(32, CPUs + 4): 6 threads on a 2-core gateway, so at 16
# concurrent commands 10 waited for a thread while 6 waited for their commit and their read model,
# and a group commit never held more than 6 commands. A command's thread mostly waits (the batch's
# leader, the read side's progress), so more are cheap; the database pools still bound the work.
HANDLER_THREADS = 32
# The API's controllers (under API_PREFIX, behind authorize_request), and the routes beside it: the
# probes now; the page (opt channel "page", behind authorize_page) and the live feed's WebSocket
# (wrapped by authenticated_socket) join them. check_authorized holds each to its channel's check.
API_ROUTES = [
    JobQueries, JobCommands, JobRuns, ExecutionQueries, Analytics, Catalog, Gateways, Status, Export, Import,
    BulkOperations, ExecutionGroups, LiveStream, AuditQueries, JobRevert, Operations, Conflicts,
]
ROUTES = [Health, live_feed, Page, Login]
PUBLIC = ["^/healthz", "^/readyz", "^/metrics", "^/schema", "^/login$", "^/logout$", "^/static/"]


def create_app(runtime: Runtime, *, owns_runtime: bool = False) -> Litestar:
    """`owns_runtime`: close the runtime (worker, pools, embedded database) when the server shuts
    down, inside the lifespan, before the server re-raises the signal that stopped it."""
    configure_logging(runtime.settings.log_json)
    if get_asyncio_executor() is None:  # one per process, set outside the event loop (Litestar's rule)
        set_asyncio_executor(ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="http-handler"))
    feed = FeedHub(lambda: runtime.app)  # the live feed's one subscription in this process, opened by the first socket
    api = Router(path=API_PREFIX, before_request=authorize_request, route_handlers=API_ROUTES)
    auth = jwt_auth(runtime.settings.secret(), exclude=PUBLIC)
    app = Litestar(
        route_handlers=[api, *ROUTES, create_static_files_router(
            path="/static", directories=[STATIC], include_in_schema=False, opt={"public": True},
        )],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        dependencies=DEPENDENCIES,
        exception_handlers={Exception: handle_exception},
        logging_config=None,  # ours (configure_logging): Litestar's default re-formats the root logger
        on_app_init=[auth.on_app_init],
        openapi_config=OpenAPIConfig(
            title="gateway-scheduler", version="1.0.0", path="/schema", render_plugins=[WireJsonRenderPlugin()],
        ),
        request_max_body_size=MAX_BODY,
        debug=False,
        on_shutdown=[feed.close, runtime.close, flush_logs] if owns_runtime else [feed.close, flush_logs],
    )
    app.state.runtime = runtime
    app.state.feed = feed
    check_authorized(app)
    answer_options_for_the_whole_route(app)
    # Around everything, the exception handler and the router included: every request gets its id,
    # its line and its count, also a 401 from the auth middleware or a path no route matches.
    app.asgi_handler = request_log_middleware(head_as_get(app.asgi_handler))
    return app


def head_as_get(app: ASGIApp) -> ASGIApp:
    """HEAD is answered as GET without the body (RFC 9110): same authentication, same status and
    headers. Litestar would answer 405, having no HEAD route for a GET one."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        scope["method"] = "GET"
        try:
            await app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"  # the request line and the metrics name what the client sent

    return middleware


def answer_options_for_the_whole_route(app: Litestar) -> None:
    """Litestar's OPTIONS answer lists the methods of the route it was made for; when two controllers
    share a path (queries and commands on /jobs/{job_id}) the route is rebuilt but keeps the first
    one's OPTIONS handler, which then answered `Allow: GET, OPTIONS` without PUT and DELETE."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.fn.__module__ == "litestar.routes.http" and handler.http_methods == {"OPTIONS"}:
                for cell in handler.fn.__closure__ or ():
                    if isinstance(cell.cell_contents, HTTPRoute):
                        cell.cell_contents = route


def check_authorized(app: Litestar) -> None:
    """Every route is authorized for its channel, or the service stops at start. An API route
    declares the role it needs, keeps the router's `authorize_request` hook (no route overrides it)
    and takes the `ctx` the hook feeds; a page route (opt `channel: page`) declares its role and runs
    `authorize_page`; a WebSocket route, anywhere, declares its role and is wrapped by
    `authenticated_socket` (its first message). The probes and the schema are public."""
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            handler = route.route_handler
            if handler.opt.get("role") not in ROLES or getattr(handler.fn, "authorized_by", None) is not authenticated_socket:
                raise RuntimeError(
                    f"WebSocket route {route.path} ({handler.handler_name}) must declare opt role and be wrapped"
                    " by authenticated_socket"
                )
            continue
        for handler in getattr(route, "route_handlers", ()):
            if handler.fn.__module__ == "litestar.routes.http" and handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's own answer to OPTIONS: the Allow header, no data
            if handler.opt.get("channel") == PAGE:
                if handler.opt.get("role") not in ROLES or handler.resolve_before_request() is not authorize_page:
                    raise RuntimeError(
                        f"page route {route.path} ({handler.handler_name}) must declare opt role and run authorize_page"
                    )
                continue
            if not route.path.startswith(API_PREFIX):
                continue
            ctx = handler.resolve_dependencies().get("ctx")
            if (handler.opt.get("role") not in ROLES or handler.resolve_before_request() is not authorize_request
                    or ctx is None or ctx.dependency is not DEPENDENCIES["ctx"].dependency):
                raise RuntimeError(
                    f"API route {route.path} ({handler.handler_name}) must declare opt role, keep the router's"
                    " authorize_request hook and take the ctx dependency"
                )
