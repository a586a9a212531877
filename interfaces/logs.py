"""structlog configured once (JSON off a terminal), and one canonical log line per request."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any

import msgspec
import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_configured = False
_ENCODER = msgspec.json.Encoder(enc_hook=str)


def _json(event: Any, **_: Any) -> str:
    return _ENCODER.encode(event).decode()


def configure_logging(json: bool | None = None, level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    render_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json) if render_json else structlog.dev.ConsoleRenderer()
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Route the standard library's logs (eventsourcing, uvicorn, our threads) through structlog too.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Binds a request id (echoed as X-Request-ID) and logs one line when the response ends."""
    log = structlog.get_logger("gateway_scheduler.http")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            headers = dict(scope.get("headers", []))
            log.info(
                "request_completed", method=scope.get("method"), path=scope.get("path"), status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                gateway_id=headers.get(b"x-gateway-id", b"").decode("latin-1") or None,
            )
            structlog.contextvars.unbind_contextvars("request_id")

    return middleware
