"""`serve` and `worker`: the long-running processes (the API with or without this gateway's
dispatcher, or the dispatcher alone)."""

from __future__ import annotations

import argparse
import socket

from interfaces.settings import Settings


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _runtime(settings: Settings, *, worker: bool):
    from interfaces.logs import configure_logging
    from interfaces.runtime import Runtime

    configure_logging(settings.log_json)  # before anything logs: the worker has no app to do it

    runtime = Runtime(settings).start()
    if worker:
        from interfaces.database import conninfo
        from interfaces.maintenance import Retention
        from interfaces.worker import start_worker

        runtime.closers.append(start_worker(runtime).stop)
        retention = Retention(conninfo(runtime.url), settings.execution_retention_days, runtime.clock)
        retention.start()
        runtime.closers.append(retention.stop)
    return runtime


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from interfaces.app import create_app

    runtime = _runtime(settings, worker=not args.no_worker)
    try:
        port = args.port or _free_port(args.host)
        print(f"gateway-scheduler: API on http://{args.host}:{port}/api/v1/scheduler "
              f"(gateway {settings.gateway_id}, OpenAPI at /schema)", flush=True)
        uvicorn.run(create_app(runtime, owns_runtime=True), host=args.host, port=port, log_level="warning", access_log=False)
    finally:
        runtime.close()
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    runtime = _runtime(settings, worker=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"gateway-scheduler: worker for gateway {settings.gateway_id}", flush=True)
    try:
        stop.wait()
    finally:
        runtime.close()
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("serve", help="run the API (and this gateway's worker)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    p.add_argument("--gateway-id", help="the gateway this process works for")
    p.add_argument("--no-worker", action="store_true", help="API only, no dispatcher")
    p.set_defaults(run=serve)
    p = commands.add_parser("worker", help="run one gateway's dispatcher without the API")
    p.add_argument("--gateway-id", help="the gateway this worker fires jobs for")
    p.set_defaults(run=worker)
