"""Query routes on jobs: the filtered list and one job's detail (viewer role)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from litestar import Controller, MediaType, Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from domain.errors import ValidationFailed
from domain.schedules import SCHEDULE_TYPES
from interfaces.api.dependencies import Context
from interfaces.api.history import instant
from interfaces.api.read_threads import ReadThreads
from interfaces.api.response_cache import page_key, query_parameters
from interfaces.auth import authorize
from interfaces.envelope import ok
from projections import audit_queries, job_queries
from projections.job_list import JobListView
from projections.job_queries import JobFilter, ListPage


def job_filter(
    status: Literal["active", "inactive", "error"] | None,
    job_type: str | None,
    tags: str | None,
    enabled: bool | None,
    limit: int,
    offset: int,
) -> JobFilter:
    if job_type is not None and job_type not in SCHEDULE_TYPES:
        raise ValidationFailed(f"Unknown job type {job_type!r}", {"field": "type", "allowed": sorted(SCHEDULE_TYPES)})
    tag_list = tuple(t.strip() for t in (tags or "").split(",") if t.strip())
    return JobFilter(status=status, type=job_type, tags=tag_list, enabled=enabled, limit=limit, offset=offset)


_PLAIN_QUERY = re.compile(rb"[A-Za-z0-9_.,=&:-]*")  # nothing to unescape: read here as Litestar reads it
_NUMBER = re.compile(r"0|[1-9][0-9]{0,6}")
# The pages' reads leave the event loop through a queue to a few threads of their own: Litestar's
# sync_to_thread (anyio: library sniffing, a capacity limiter, a task) cost a quarter of a page's
# Python time beside it (docs/decisions.md 261), the loop's executor hand-off half of that (312). At most
# the read pool's size at once.
_READS = ReadThreads(4, "list-reads")
_STATUSES = frozenset({"active", "inactive", "error"})
_BOOLEANS = {"true": True, "false": False}


def plain_selection(query: bytes) -> JobFilter | None:
    """The list's selection when its query string is plain (no escapes, each key once, every
    value in its canonical spelling and valid), read exactly as the handler would read it; None
    otherwise, and the handler reads it, answering or refusing as its parameters say."""
    if not _PLAIN_QUERY.fullmatch(query):
        return None
    values: dict[str, str] = {}
    for pair in query.decode().split("&"):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or key in values:  # a repeated key is the hook's refusal (refuse_repeated)
            return None
        values[key] = value
    limit, offset = values.get("limit", "50"), values.get("offset", "0")
    if not (_NUMBER.fullmatch(limit) and _NUMBER.fullmatch(offset)):
        return None
    if not 1 <= int(limit) <= 100 or int(offset) > 1_000_000:  # the handler's bounds
        return None
    status, job_type, enabled = values.get("status"), values.get("type"), values.get("enabled")
    if status is not None and status not in _STATUSES or job_type is not None and job_type not in SCHEDULE_TYPES:
        return None
    if enabled is not None and enabled not in _BOOLEANS:
        return None
    flag = None if enabled is None else _BOOLEANS[enabled]
    return job_filter(status, job_type, values.get("tags"), flag, int(limit), int(offset))  # type: ignore[arg-type]


def list_pages(app: ASGIApp) -> ASGIApp:
    """Route middleware in front of the job list, after authentication: the caller is authorized
    (role, gateway) as the API's hook does, then the page is answered here, without building a
    request, resolving parameters or dependencies, or a Response (Litestar's part of a list
    request cost more than the page's own query; docs/decisions.md 261): from the answer cache
    while the job list has not moved, else by its one statement, when the query string is plain
    (`plain_selection`). Anything else, a refusal or a failed read included, goes on to the
    handler, which answers it with its envelope. Pages are keyed by the list's own query
    parameters (`page_key`, `LIST_PARAMETERS`) and stored only for queries that validated and ran."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        runtime = scope["litestar_app"].state.runtime
        try:
            _, gateway_id = authorize(ASGIConnection(scope))
        except Exception:  # noqa: BLE001 - the handler's own hook refuses it, with its envelope
            await app(scope, receive, send)
            return
        cache = runtime.list_cache
        position = runtime.progress.position(JobListView.tracking_table)  # before the query runs
        key = page_key(gateway_id, scope["query_string"], LIST_PARAMETERS) if cache.keeps else None
        body = None if key is None else cache.get(key, position)
        if body is None:
            selection = plain_selection(scope["query_string"])
            if selection is None:
                await app(scope, receive, send)
                return
            try:
                page = await _READS.run(job_queries.list_page, runtime.reads, gateway_id, selection)
            except Exception:  # noqa: BLE001 - the handler reads again and answers the failure its way
                await app(scope, receive, send)
                return
            body = list_body(page)
            if key is not None:
                cache.put(key, position, body)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return middleware


def list_body(page: ListPage) -> bytes:
    """The envelope around the page's jobs, which arrive as their JSON (docs/decisions.md 260):
    what `ok()` and the encoder gave for the decoded rows, without decoding them."""
    return b"".join((
        b'{"data":{"total_jobs":', str(page.total_jobs).encode(), b',"active_jobs":', str(page.active_jobs).encode(),
        b',"jobs":[', page.jobs_json, b']},"success":true,"message":"Jobs retrieved successfully"}',
    ))


class JobQueries(Controller):
    opt = {"role": "viewer"}

    @get("/jobs", middleware=[list_pages])
    async def list_jobs(
        self,
        request: Request[Any, Any, Any],
        ctx: NamedDependency[Context],
        status: FromQuery[Literal["active", "inactive", "error"] | None] = None,
        job_type: Annotated[str | None, QueryParameter(name="type")] = None,
        tags: FromQuery[str | None] = None,
        enabled: FromQuery[bool | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[bytes]:
        """List the gateway's jobs, filtered by status, type, tags (any of, comma-separated) and enabled."""
        selection = job_filter(status, job_type, tags, enabled, limit, offset)
        position = ctx.runtime.progress.position(JobListView.tracking_table)  # before the query runs
        page = await sync_to_thread(job_queries.list_page, ctx.runtime.reads, ctx.gateway_id, selection)
        body = list_body(page)
        key = page_key(ctx.gateway_id, request.scope["query_string"], LIST_PARAMETERS)
        ctx.runtime.list_cache.put(key, position, body)
        return Response(body, media_type=MediaType.JSON)

    @get("/jobs/{job_id:str}", sync_to_thread=True)
    def job_detail(
        self, job_id: FromPath[str], ctx: NamedDependency[Context],
        as_of: Annotated[str | None, QueryParameter(max_length=64)] = None,
        version: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> Response[dict[str, Any]]:
        """One job: configuration, statistics, metadata and its next 10 fire instants. ETag is its version.
        With `as_of` (an instant) or `version`, the job as it was then, deleted since or not (docs/api.md)."""
        if as_of is not None or version is not None:
            if as_of is not None and version is not None:
                raise ValidationFailed("give as_of or version, not both", {"field": "as_of"})
            then = audit_queries.job_as_of(
                ctx.runtime.reads, ctx.gateway_id, job_id, as_of=instant(as_of, "as_of"), version=version)
            return Response(ok({"job": then}, "Job version retrieved successfully"))
        job = job_queries.job_detail(ctx.runtime.reads, ctx.gateway_id, job_id, ctx.runtime.clock())
        return Response(ok({"job": job}, "Job details retrieved successfully"), headers={"ETag": f'"{job["version"]}"'})


# Every parameter of the list makes pages of its own; one added to the handler is in the key at once.
LIST_PARAMETERS = query_parameters(JobQueries.list_jobs.fn)
