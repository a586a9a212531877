"""The live feed under load: N WebSocket subscribers on one API process while runs are recorded at a
steady rate, beside a bare Litestar WebSocket broadcast of the same messages in the same run.

Run: .venv/bin/python bench/live.py [--subscribers 1000] [--rate 300] [--seconds 20] [--clients 2]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL; a fresh database, dropped at the end.
- Service: `python -m interfaces.cli serve --no-worker` in a subprocess (Runtime + create_app under
  uvicorn, one process, as in production).
- Subscribers: `--clients` processes of minimal asyncio WebSocket clients (a hand-parsed frame
  reader: the `websockets` client cannot keep up with thousands of messages a second), N in all, each authenticated
  with a JWT and subscribed to the gateway with `"types": ["job_completed"]` (one message per run);
  all are connected and caught up before the first run is recorded.
- Writer (this process): a Scheduler on the same database records runs (an Execution started and
  succeeded: two events; one commit per tick of 50 ms, rate/20 runs per commit) for `--seconds`.
  The commit time of each position is taken when `save` returns.
- Baseline: a bare Litestar app under uvicorn in a subprocess, a WebSocket route that keeps each
  subscriber in a set with an asyncio queue of its own (bounded as the feed's) and a publisher socket
  whose every frame it puts on each queue. The same subscriber processes connect to it, and the
  writer replays the very texts the feed delivered, at the same pacing, taking the send time as the
  commit time.
- Figures per phase: commit-to-delivery latency p50/p99/max over every (subscriber, message), messages
  per second delivered (all subscribers), the server process's CPU (user+system over the phase's wall
  time, psutil), missing and duplicated messages per subscriber (worst subscriber; must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GATEWAY = "gw-bench-live"
QUEUE = 1000  # the bare broadcast's per-subscriber queue, as interfaces/ws/mailbox.py QUEUE_SIZE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the bare Litestar broadcast (a subprocess) -----------------------------------------------------

def bare_server(port: int) -> None:
    import uvicorn
    from litestar import Litestar, websocket
    from litestar.connection import WebSocket
    from litestar.exceptions import WebSocketDisconnect

    subscribers: set[asyncio.Queue[str]] = set()

    @websocket("/ws")
    async def subscribe(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.receive_text()  # the client's auth message, ignored
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE)
        subscribers.add(queue)
        try:
            await socket.send_text('{"type":"caught_up","position":0}')
            while True:
                await socket.send_text(await queue.get())
        except WebSocketDisconnect:
            pass
        finally:
            subscribers.discard(queue)

    @websocket("/publish")
    async def publish(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        try:
            while True:
                text = await socket.receive_text()
                for queue in list(subscribers):
                    if not queue.full():
                        queue.put_nowait(text)  # a full queue drops: counted as missing, as it would be
        except WebSocketDisconnect:
            pass

    uvicorn.run(Litestar(route_handlers=[subscribe, publish]), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


# ---- subscriber processes ---------------------------------------------------------------------------

class _Subscriber(asyncio.Protocol):
    """One WebSocket subscriber on a bare asyncio protocol: the handshake, then the server's
    unmasked frames parsed by hand (text frames; pings answered), so that a client process can
    keep up with thousands of messages a second. Only the `type` and `position` of each message
    are read (a byte search: the feed's and the bare server's texts are the same JSON)."""

    def __init__(self, host: str, path: str, auth: bytes, positions: array, received: array,
                 ready: asyncio.Event) -> None:
        self.host, self.path, self.auth = host, path, auth
        self.positions, self.received, self.ready = positions, received, ready
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(bytes(self.buffer[:200]))
            del self.buffer[:end + 4]
            self.upgraded = True
            self._send(0x1, self.auth)
        buf = self.buffer
        at = 0
        while len(buf) - at >= 2:
            opcode, n = buf[at] & 0x0F, buf[at + 1] & 0x7F
            head = 2
            if n == 126:
                if len(buf) - at < 4:
                    break
                n, head = int.from_bytes(buf[at + 2:at + 4], "big"), 4
            elif n == 127:
                if len(buf) - at < 10:
                    break
                n, head = int.from_bytes(buf[at + 2:at + 10], "big"), 10
            if len(buf) - at < head + n:
                break
            payload = bytes(buf[at + head:at + head + n])
            at += head + n
            if opcode == 0x1:
                self._message(payload, now)
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                raise RuntimeError(f"closed by the server: {payload!r}")
        del buf[:at]

    def _message(self, payload: bytes, now: float) -> None:
        if b'"type":"job_completed"' in payload:
            i = payload.rindex(b'"position":') + 11
            j = i
            while 48 <= payload[j] <= 57:
                j += 1
            self.positions.append(int(payload[i:j]))
            self.received.append(now)
        elif b'"type":"caught_up"' in payload:
            self.ready.set()


def client_process(url: str, count: int, auth: str, out: str, drain: float) -> None:
    """`count` subscribers; prints "ready" when all are caught up; on stdin "done <last>" waits until
    every subscriber has `last` (or `drain` seconds), writes (positions, receive times) per
    subscriber to `out`, and whether the wait ran out."""
    parts = urlsplit(url)
    positions = [array("q") for _ in range(count)]
    received = [array("d") for _ in range(count)]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ready = [asyncio.Event() for _ in range(count)]
        for i in range(count):
            await loop.create_connection(
                lambda i=i: _Subscriber(parts.netloc, parts.path, auth.encode(), positions[i], received[i], ready[i]),
                parts.hostname, parts.port)
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # do not open a thousand handshakes at once
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 300)
        print("ready", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        last = int(line.split()[1])
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and not all(p and p[-1] >= last for p in positions):
            await asyncio.sleep(0.05)
        timed_out = not all(p and p[-1] >= last for p in positions)
        await asyncio.sleep(0.5)  # anything duplicated after the last one
        with open(out, "w") as f:
            json.dump({"timed_out": timed_out,
                       "subscribers": [[list(p), list(r)] for p, r in zip(positions, received, strict=True)]}, f)
        print("finished", flush=True)

    asyncio.run(main())


class Clients:
    def __init__(self, url: str, total: int, processes: int, auth: dict[str, Any], tmp: Path, tag: str,
                 drain: float) -> None:
        self.files = []
        self.procs = []
        share = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
        for i, count in enumerate(share):
            out = tmp / f"{tag}-{i}.json"
            self.files.append(out)
            self.procs.append(subprocess.Popen(
                [sys.executable, __file__, "client", url, str(count), json.dumps(auth), str(out), str(drain)], cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for proc in self.procs:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if line.strip() != "ready":
                raise RuntimeError(f"a subscriber process failed: {line!r}")

    def finish(self, last: int) -> tuple[list[tuple[list[int], list[float]]], bool]:
        for proc in self.procs:
            proc.stdin.write(f"done {last}\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        for proc in self.procs:
            proc.stdout.readline()  # type: ignore[union-attr]
            proc.wait(timeout=60)
        result, timed_out = [], False
        for path in self.files:
            got = json.loads(path.read_text())
            timed_out = timed_out or got["timed_out"]
            result += [(p, r) for p, r in got["subscribers"]]
        return result, timed_out


# ---- figures ----------------------------------------------------------------------------------------

def figures(label: str, finished: tuple[list[tuple[list[int], list[float]]], bool], committed: dict[int, float],
            cpu_seconds: float, wall: float) -> dict[str, Any]:
    subscribers, timed_out = finished
    expected = set(committed)
    latencies: list[float] = []
    worst_missing = worst_dup = 0
    delivered = 0
    first = min(committed.values())
    last_delivery = first
    for positions, times in subscribers:
        got = set(positions)
        worst_missing = max(worst_missing, len(expected - got))
        worst_dup = max(worst_dup, len(positions) - len(got))
        delivered += len(positions)
        for position, at in zip(positions, times, strict=True):
            if position in committed:
                latencies.append(at - committed[position])
                last_delivery = max(last_delivery, at)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    span = max(last_delivery - first, 1e-9)
    row = {"label": label, "subscribers": len(subscribers), "messages": len(expected), "delivered": delivered,
           "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
           "delivered_per_s": delivered / span, "cpu_percent": 100 * cpu_seconds / wall,
           "worst_missing": worst_missing, "worst_duplicated": worst_dup}
    print(f"  {label}: {row['subscribers']} subscribers x {row['messages']} messages; latency p50 {row['p50_ms']:.1f} ms,"
          f" p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms; {row['delivered_per_s']:.0f} messages/s delivered;"
          f" server CPU {row['cpu_percent']:.0f}%; missing {worst_missing}, duplicated {worst_dup} (worst subscriber)"
          + (" -- the drain wait ran out: 'missing' counts messages not yet delivered, not lost" if timed_out else ""),
          flush=True)
    return row


def cpu_of(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


# ---- the run ----------------------------------------------------------------------------------------

TICK = 0.05  # the writer commits the runs of each tick together, as the dispatcher commits a tick's fires


def record_runs(app: Any, rate: int, seconds: float) -> tuple[dict[int, float], list[tuple[int, str, float]]]:
    """Runs at `rate`/s for `seconds`: {position of each Succeeded: commit time}, and (position, the
    feed's text of it, offset from the start) to replay to the baseline."""
    from domain.execution import Execution
    from interfaces.ws.messages import encode
    from interfaces.ws.routing import route

    per_tick = max(1, round(rate * TICK))
    interval = per_tick / rate  # TICK, or longer for a rate below one run per tick
    committed: dict[int, float] = {}
    replay: list[tuple[int, str, float]] = []
    start = time.monotonic()
    tick = 0
    while time.monotonic() - start < seconds:
        now = datetime.now(UTC)
        runs = []
        for i in range(per_tick):
            run = Execution.start(gateway_id=GATEWAY, job_id=f"job_{i % 50}", execution_id=f"exec_{uuid.uuid4().hex}",
                                  job_name="poll", trigger="scheduled", scheduled_for=now, now=now)
            run.succeed(now=now, duration_ms=1, message="ok", logs=[])
            runs.append(run)
        events = [e for run in runs for e in run.pending_events]
        recordings = app.save(*runs)
        at = time.time()
        for event, recording in zip(events, recordings, strict=True):
            routed = route(event, recording.notification.id)
            if routed is not None and routed.message.type == "job_completed":
                committed[recording.notification.id] = at
                replay.append((recording.notification.id, encode(routed.message), time.monotonic() - start))
        tick += 1
        pause = start + tick * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return committed, replay


def replay_to(url: str, replay: list[tuple[int, str, float]]) -> dict[int, float]:
    from websockets.sync.client import connect

    sent: dict[int, float] = {}
    with connect(url) as ws:
        start = time.monotonic()
        for position, text, offset in replay:
            pause = start + offset - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[position] = time.time()
            ws.send(text)
        time.sleep(0.2)
    return sent


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} not open within {timeout}s")


def stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=300, help="runs recorded per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=2, help="subscriber processes")
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for the last message")
    args = parser.parse_args()

    import httpx

    from application.scheduler import Scheduler
    from interfaces.auth import issue_token
    from interfaces.database import EmbeddedPostgres, create_database, drop_database, eventsourcing_env

    tmp = Path(tempfile.mkdtemp(prefix="gs-bench-live-"))
    tmp.chmod(0o755)
    embedded = service = bare = None
    db_url = None
    server_url = os.environ.get("DATABASE_URL") or ""
    try:
        if not server_url:
            embedded = EmbeddedPostgres(tmp / "pgdata")
            server_url = embedded.url
        db_url = create_database(server_url, "gs_bench_live")
        secret = "bench-" + uuid.uuid4().hex
        token = issue_token(secret, subject="bench", role="viewer", gateways=[GATEWAY], ttl=timedelta(hours=2))
        port, bare_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": db_url, "SCHEDULER_JWT_SECRET": secret, "SCHEDULER_GATEWAY_ID": GATEWAY,
               "SCHEDULER_DATA_DIR": str(tmp / "data"), "PYTHONUNBUFFERED": "1"}
        log = open(tmp / "service.log", "wb")  # noqa: SIM115 - closed with the process
        service = subprocess.Popen([sys.executable, "-m", "interfaces.cli", "serve", "--host", "127.0.0.1", "--port",
                                    str(port), "--no-worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_port(port, service)
        deadline = time.monotonic() + 60
        while httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "service not ready"
            time.sleep(0.2)
        app = Scheduler(eventsourcing_env(db_url, pool_size=2))
        print(f"service pid {service.pid}; {args.subscribers} subscribers in {args.clients} processes; "
              f"{args.rate} runs/s for {args.seconds:g} s; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
              flush=True)

        auth = {"type": "auth", "token": token, "gateway_id": GATEWAY, "types": ["job_completed"]}
        clients = Clients(f"ws://127.0.0.1:{port}/api/v1/scheduler/ws", args.subscribers, args.clients, auth, tmp, "feed",
                          args.drain)
        cpu0, t0 = cpu_of(service.pid), time.monotonic()
        committed, replay = record_runs(app, args.rate, args.seconds)
        print(f"  recorded {len(committed)} runs in {args.seconds:g} s ({len(committed) / args.seconds:.0f}/s)", flush=True)
        got = clients.finish(max(committed))
        feed = figures("gateway-scheduler feed", got, committed, cpu_of(service.pid) - cpu0, time.monotonic() - t0)
        app.close()
        stop(service)
        service = None

        bare = subprocess.Popen([sys.executable, __file__, "bare", str(bare_port)], cwd=ROOT)
        wait_port(bare_port, bare)
        clients = Clients(f"ws://127.0.0.1:{bare_port}/ws", args.subscribers, args.clients, auth, tmp, "bare",
                          args.drain)
        cpu0, t0 = cpu_of(bare.pid), time.monotonic()
        sent = replay_to(f"ws://127.0.0.1:{bare_port}/publish", replay)
        got = clients.finish(max(sent))
        base = figures("bare Litestar broadcast", got, sent, cpu_of(bare.pid) - cpu0, time.monotonic() - t0)
        print(f"ratio feed/bare: p50 {feed['p50_ms'] / base['p50_ms']:.2f}x, p99 {feed['p99_ms'] / base['p99_ms']:.2f}x,"
              f" CPU {feed['cpu_percent'] / max(base['cpu_percent'], 1e-9):.2f}x,"
              f" delivered/s {feed['delivered_per_s'] / base['delivered_per_s']:.2f}x", flush=True)
    finally:
        stop(service)
        stop(bare)
        if db_url is not None:
            drop_database(server_url, db_url)
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bare":
        bare_server(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "client":
        client_process(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6]))
    else:
        main()
