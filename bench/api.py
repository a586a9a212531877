"""HTTP throughput and latency of the real API against a bare Litestar app, served the same way.

Run: .venv/bin/python bench/api.py [--seconds 5] [--client auto|wrk|httpx] [--samples 200] [--cache] [--only post|reads]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL in a fresh temp dir; a fresh
  database is created, migrated, and dropped at the end.
- Service: `python -m interfaces.cli serve --no-worker` in a subprocess (Runtime + create_app under
  uvicorn, one process, as in production), with SCHEDULER_MAX_JOBS_PER_GATEWAY large and the GET
  /jobs answer cache off (SCHEDULER_LIST_CACHE_PAGES=0; `--cache` keeps it): every read runs its query.
- Baseline: a bare Litestar app with one GET returning a small JSON dict, under uvicorn.run with the
  same options in a subprocess of its own, measured at 8 and at 1 connection.
- Load: wrk when installed (`apt-get install -y wrk`), else httpx (sync, keep-alive, threads), always
  in a process of its own so that the client does not share the server's GIL.
- Set-up: 1,000 jobs created in one gateway through POST /jobs; 100,000 executions of its first job
  written straight into the executions read model (one every 10 s, ending now: 8,640 in the last 24 h),
  with their hourly roll-ups (execution_hours) and runs and hourly peaks (analytics_runs,
  analytics_peak_hours), as the analytics projection would hold them; then the
  jobs table vacuumed and analyzed, as autovacuum leaves it a minute later.
- Figures: reads (a random page of GET /jobs at 8 and 1 connection, a random job's detail, a random
  page of the 100,000-execution history, /statistics 24h), POST /jobs at 1, 4, 16 and 64 concurrent
  clients in one gateway (a fresh one per row) and spread over 16 gateways (requests/s, p50, p99), and
  command-to-visible latency at one client (send POST -> first GET ?tags=<unique tag> listing it).
"""

from __future__ import annotations

import argparse
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
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import PREFIX, httpx_load, job_body, visible_samples, wrk_load  # noqa: E402
sys.path.insert(0, str(ROOT))
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

from interfaces.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402
from projections.execution_counts import recount  # noqa: E402

GATEWAY = "gw-bench-list"       # the 1,000 jobs the list reads
POST_GATEWAY = "gw-bench-post"  # jobs created by the POST load (keeps the listed gateway at 1,000)
VISIBLE_GATEWAY = GATEWAY       # command-to-visible: creates in, and filters, the listed gateway
SETUP_JOBS = 1000
MAX_JOBS = 1_000_000
GET_CONNECTIONS = 8
HISTORY = 100_000
SPREAD = [f"gw-bench-spread-{i:02d}" for i in range(16)]
POST_CLIENTS = (1, 4, 16, 64)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_bare(port: int) -> None:
    """The baseline: uvicorn.run exactly as `serve` calls it, on a one-route Litestar app."""
    import uvicorn
    from litestar import Litestar, get

    @get("/bare", sync_to_thread=False)
    def bare() -> dict[str, Any]:
        return {"data": {"status": "ok"}, "success": True, "message": "bare"}

    uvicorn.run(Litestar(route_handlers=[bare]), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- load generators (each run in a process of its own) ----------------------------------------

def in_process(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Runs a load generator in a fresh Python process; its result comes back as JSON."""
    out = subprocess.run(
        [sys.executable, __file__, mode, json.dumps(spec)], check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- orchestration ---------------------------------------------------------------------------

def setup_jobs(base: str, headers: dict[str, str], count: int) -> tuple[float, list[str]]:
    import httpx

    started = time.perf_counter()
    ids = []
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        for i in range(count):
            kind = i % 3
            body = job_body(name=f"job {i:04d}", tags=["bench", f"group-{i % 10}"])
            if kind == 1:
                body.update(type="cron", schedule={"cron_expression": "*/5 * * * *", "timezone": "UTC"})
            elif kind == 2:
                body.update(type="daily", schedule={"time": "02:30", "timezone": "Europe/Berlin"})
            response = client.post(f"{PREFIX}/jobs", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"set-up POST /jobs answered {response.status_code}: {response.text[:300]}")
            ids.append(response.json()["data"]["job_id"])
        listed = client.get(f"{PREFIX}/jobs", params={"limit": 1}).json()["data"]["total_jobs"]
    if listed != count:
        raise RuntimeError(f"set-up: {listed} jobs listed, expected {count}")
    return time.perf_counter() - started, ids


def seed_history(db_url: str, gateway_id: str, job_id: str, count: int) -> float:
    """`count` finished executions of one job in the read model, one every 10 s back from now, and
    their hourly roll-ups (what the analytics projection would hold: /statistics reads them)."""
    import psycopg
    from metrics import ROLL_UP, seed_peaks

    from projections.analytics import BUCKETS

    started = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO executions (gateway_id, execution_id, aggregate_id, job_id, job_name, trigger, status,"
            " scheduled_for, start_time, end_time, duration_ms)"
            " SELECT %(gw)s, 'exe_bench_' || g, md5('bench-' || g)::uuid, %(job)s, 'job 0000', 'scheduled',"
            "  CASE WHEN g %% 100 < 95 THEN 'success' WHEN g %% 100 < 98 THEN 'failed'"
            "   WHEN g %% 100 < 99 THEN 'timeout' ELSE 'missed' END,"
            "  now() - g * interval '10 seconds', now() - g * interval '10 seconds',"
            "  now() - g * interval '10 seconds' + interval '120 milliseconds', 120"
            " FROM generate_series(1, %(n)s) g",
            {"gw": gateway_id, "job": job_id, "n": count},
        )
        conn.execute(ROLL_UP, {"g": gateway_id, "j": job_id, "buckets": BUCKETS})
        recount(conn, gateway_id, job_id)  # as the projection keeps them (projections/execution_counts.py)
        conn.execute("ANALYZE executions")
        conn.execute("ANALYZE execution_hours")
        seed_peaks(conn, gateway_id)  # the analytics projection's runs and hourly peaks (/statistics' peak)
        # The list's plan and its index-only counts as autovacuum leaves them a minute later: the
        # read rows used to run before or after that at random (a 2x swing of the random page).
        conn.execute("VACUUM (ANALYZE) jobs")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", action="store_true", help="keep the GET /jobs answer cache on")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per figure")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds before each figure")
    parser.add_argument("--samples", type=int, default=200, help="command-to-visible samples")
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--only", choices=["all", "post", "reads"], default="all",
                        help="post: the bare baseline, the POST rows and command-to-visible only (no history seeded);"
                             " reads: the bare baseline and the read rows only")
    parser.add_argument("--keep-server", action="store_true", help="print pids and wait for Enter before stopping")
    args = parser.parse_args()

    import psycopg  # noqa: F401 - fail early when the venv is not the project's

    from interfaces.auth import issue_token

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "httpx"
    if client == "wrk" and not shutil.which("wrk"):
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="gs-bench-"))
    tmp.chmod(0o755)  # as root the embedded server runs as its own user and must reach pgdata
    embedded = None
    db_url: str | None = None
    service = bare = None
    server_url = os.environ.get("DATABASE_URL") or ""
    try:
        if not server_url:
            embedded = EmbeddedPostgres(tmp / "pgdata")
            server_url = embedded.url
        db_url = create_database(server_url, "gs_bench")

        secret = "bench-" + uuid.uuid4().hex
        token = issue_token(secret, subject="bench", role="admin", gateways=["*"], ttl=timedelta(hours=2))
        service_port, bare_port = free_port(), free_port()
        env = {
            **os.environ, "DATABASE_URL": db_url, "SCHEDULER_JWT_SECRET": secret,
            "SCHEDULER_MAX_JOBS_PER_GATEWAY": str(MAX_JOBS), "SCHEDULER_DATA_DIR": str(tmp / "data"),
            "SCHEDULER_GATEWAY_ID": GATEWAY, "PYTHONUNBUFFERED": "1",
            "SCHEDULER_LIST_CACHE_PAGES": "512" if args.cache else "0",
        }
        service_log = open(tmp / "service.log", "wb")  # noqa: SIM115 - closed with the process
        service = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli", "serve", "--host", "127.0.0.1", "--port", str(service_port),
             "--no-worker"], cwd=ROOT, env=env, stdout=service_log, stderr=subprocess.STDOUT,
        )
        bare = subprocess.Popen([sys.executable, __file__, "bare", str(bare_port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{service_port}"
        wait_http(f"{base}/readyz", service)
        wait_http(f"http://127.0.0.1:{bare_port}/bare", bare)
        print(f"service pid {service.pid} on {base}, bare pid {bare.pid} on :{bare_port}; "
              f"client {client}; database {conninfo_to_dict(db_url)['dbname']} ({'DATABASE_URL' if embedded is None else 'embedded'}); "
              f"{os.cpu_count()} CPUs", flush=True)

        auth = {"Authorization": f"Bearer {token}"}
        setup_seconds, job_ids = setup_jobs(base, {**auth, "X-Gateway-ID": GATEWAY}, SETUP_JOBS)
        print(f"set-up: {SETUP_JOBS} jobs through POST /jobs in {setup_seconds:.1f} s "
              f"({SETUP_JOBS / setup_seconds:.0f}/s sequential)", flush=True)
        if args.only != "post":
            seeded = seed_history(db_url, GATEWAY, job_ids[0], HISTORY)
            print(f"set-up: {HISTORY} executions of {job_ids[0]} in the read model in {seeded:.1f} s", flush=True)
        if args.keep_server:
            print(f"token: {token}", flush=True)
            input("servers up; press Enter to run the load ... ")

        def load(label: str, url: str, headers: dict[str, str], connections: int, method: str = "GET",
                 body: Any = None, vary_offset: bool = False, **extra: Any) -> dict[str, Any]:
            spec = {"url": url, "headers": headers, "connections": connections, "method": method, "body": body,
                    "seconds": args.seconds, "warmup": args.warmup, "vary_offset": vary_offset, **extra}
            result = wrk_load(spec, tmp) if client == "wrk" else in_process("httpx-load", spec)
            print(f"  {label} x{connections}: {result['rps']:.0f} req/s, p99 {result['p99_ms']:.1f} ms, "
                  f"{result['errors']} errors", flush=True)
            return result

        rows: list[tuple[str, str, dict[str, Any]]] = []
        list_headers = {**auth, "X-Gateway-ID": GATEWAY}
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        rows.append(("bare GET (baseline)", f"{GET_CONNECTIONS}", load("bare", bare_url, {}, GET_CONNECTIONS)))
        rows.append(("bare GET (baseline)", "1", load("bare", bare_url, {}, 1)))
        if args.only != "post":
            rows.append(("GET /jobs same page", f"{GET_CONNECTIONS}",
                         load("list", f"{base}{PREFIX}/jobs?limit=50", list_headers, GET_CONNECTIONS)))
            for connections in (GET_CONNECTIONS, 1):
                rows.append(("GET /jobs random page", f"{connections}",
                             load("list, random offsets", f"{base}{PREFIX}/jobs?limit=50", list_headers, connections,
                                  vary_offset=True)))
            rows.append(("GET /jobs/{id} random", "1", load(
                "detail", f"{base}{PREFIX}/jobs/{job_ids[0]}", list_headers, 1,
                paths=[f"{PREFIX}/jobs/{j}" for j in job_ids])))
            rows.append(("history, random page", "1", load(
                "history", f"{base}{PREFIX}/jobs/{job_ids[0]}/history", list_headers, 1,
                paths=[f"{PREFIX}/jobs/{job_ids[0]}/history?limit=50&offset={o}" for o in range(0, 1000, 10)])))
            rows.append(("GET /statistics 24h", "1", load(
                "statistics", f"{base}{PREFIX}/statistics?time_range=24h", list_headers, 1)))
        visible = None
        if args.only != "reads":
            for connections in POST_CLIENTS:
                post_headers = {**auth, "X-Gateway-ID": f"gw-bench-post-{connections}", "Content-Type": "application/json"}
                rows.append(("POST /jobs one gateway", f"{connections}",
                             load("post, one gateway", f"{base}{PREFIX}/jobs", post_headers, connections, "POST",
                                  job_body(name="posted"))))
            for connections in POST_CLIENTS:
                post_headers = {**auth, "X-Gateway-ID": SPREAD[0], "Content-Type": "application/json"}
                rows.append((f"POST /jobs {len(SPREAD)} gateways", f"{connections}",
                             load("post, spread", f"{base}{PREFIX}/jobs", post_headers, connections, "POST",
                                  job_body(name="posted"), gateways=SPREAD)))
            visible = in_process("visible", {
                "base": base, "headers": {**auth, "X-Gateway-ID": VISIBLE_GATEWAY},
                "samples": args.samples, "warmup": 10,
            })
        if args.keep_server:
            input("done; press Enter to stop the servers ... ")
    finally:
        stop(service)
        stop(bare)
        try:
            if db_url is not None:
                drop_database(server_url, db_url)
        finally:
            if embedded is not None:
                embedded.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    by = {(label, conc): r for label, conc, r in rows}
    bare8, bare1 = by[("bare GET (baseline)", f"{GET_CONNECTIONS}")], by[("bare GET (baseline)", "1")]
    print()
    print(f"gateway-scheduler API bench: uvicorn, 1 process each, client {client}, {args.seconds:.0f} s per row, "
          f"{SETUP_JOBS} jobs in the listed gateway, answer cache {'on' if args.cache else 'off'}")
    print(f"{'endpoint':<26}{'conc':>5}{'req/s':>10}{'x bare':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, conc, r in rows:
        bare_rps = (bare1 if conc == "1" else bare8)["rps"]
        shown = f"{r['rps'] / bare_rps:.2f}" if label.startswith(("GET", "history", "bare")) and bare_rps else ""
        print(f"{label:<26}{conc:>5}{r['rps']:>10.0f}{shown:>8}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}")
    if visible is not None:
        print(f"{'command-to-visible':<26}{'1':>5}{'':>10}{'':>8}{visible['p50_ms']:>9.1f}{visible['p99_ms']:>9.1f}{0:>8}"
              f"   ({visible['samples']} samples; POST alone p50 {visible['post_p50_ms']:.1f} / "
              f"p99 {visible['post_p99_ms']:.1f} ms; extra GETs {visible['extra_gets']})")
    if client == "httpx":
        print("note: the httpx client (one Python process) caps the bare endpoint far below the server's rate, so the"
              " ratio is flattered; install wrk for a fair baseline")
    print()
    checks = []
    if args.only != "post":
        page = by[("GET /jobs random page", f"{GET_CONNECTIONS}")]
        checks.append(("GET /jobs random page / bare", page["rps"] / bare8["rps"], ">= 0.3", page["rps"] / bare8["rps"] >= 0.3))
        for label in ("GET /jobs/{id} random", "history, random page", "GET /statistics 24h"):
            p99 = by[(label, "1")]["p99_ms"]
            checks.append((f"{label} p99 ms", p99, "< 20", p99 < 20))
    for label in ("POST /jobs one gateway", f"POST /jobs {len(SPREAD)} gateways") if visible is not None else ():
        one, sixteen = by[(label, "1")], by[(label, "16")]
        checks.append((f"{label} x16 req/s", sixteen["rps"], ">= 800", sixteen["rps"] >= 800))
        checks.append((f"{label} x16 p99 ms", sixteen["p99_ms"], "< 50", sixteen["p99_ms"] < 50))
        least = min(by[(label, str(c))]["rps"] for c in POST_CLIENTS)
        checks.append((f"{label} least req/s / x1", least / one["rps"], ">= 1", least >= one["rps"]))
    if visible is not None:
        checks.append(("command-to-visible p99 ms", visible["p99_ms"], "< 10", visible["p99_ms"] < 10))
    for name, value, target, ok in checks:
        print(f"{name:<40}= {value:>8.2f}   target {target:<7} {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bare":
        run_bare(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "httpx-load":
        print(json.dumps(httpx_load(json.loads(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "visible":
        print(json.dumps(visible_samples(json.loads(sys.argv[2]))))
    else:
        sys.exit(main())
