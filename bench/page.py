"""The page with 1,000 jobs: its server render (p50/p99 over repeated GETs), its size, and in
Chromium the time from navigation to the jobs table drawn (Performance API).

Run: .venv/bin/python bench/page.py [--renders 200] [--navigations 20]

- Database: DATABASE_URL's server if set, else an embedded PostgreSQL; a fresh database each run.
- Service: `python -m interfaces.cli serve --no-worker` in a subprocess; 1,000 jobs created through
  POST /jobs; a user signs in through POST /login (the session cookie the page needs).
- Server render: sequential GET /scheduler-automation with the cookie (httpx, keep-alive).
  Baseline, same run: the API reads that the embedding replaces, i.e. every job through
  GET /jobs?limit=100&offset=0..900 (ten requests) plus /status, /gateways and /statistics,
  sequential; the ratio is page / baseline.
- Browser: Debian's chromium through Playwright (executable_path), a fresh page per navigation;
  the figure is `performance.now()` when the jobs table was drawn (the page's own mark,
  body[data-jobs-drawn]), i.e. milliseconds since navigation start.
Targets: server render p99 < 100 ms, table drawn < 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from api import free_port, setup_jobs, stop, wait_http  # noqa: E402

from interfaces.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402

GATEWAY = "gw-bench-page"
JOBS = 1000
PASSWORD = "bench password 1"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(call, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--navigations", type=int, default=20)
    args = parser.parse_args()
    import httpx

    from interfaces.auth import issue_token
    from interfaces.auth.users import Users
    from tests.e2e.conftest import CHROMIUM_FLAGS, chromium_path

    tmp = Path(tempfile.mkdtemp(prefix="gs-bench-page-"))
    tmp.chmod(0o755)
    embedded = service = None
    db_url = None
    server_url = os.environ.get("DATABASE_URL") or ""
    try:
        if not server_url:
            embedded = EmbeddedPostgres(tmp / "pgdata")
            server_url = embedded.url
        db_url = create_database(server_url, "gs_bench_page")
        secret = "bench-" + uuid.uuid4().hex
        port = free_port()
        env = {**os.environ, "DATABASE_URL": db_url, "SCHEDULER_JWT_SECRET": secret, "SCHEDULER_GATEWAY_ID": GATEWAY,
               "SCHEDULER_MAX_JOBS_PER_GATEWAY": str(JOBS * 2), "SCHEDULER_DATA_DIR": str(tmp / "data"), "PYTHONUNBUFFERED": "1"}
        log = open(tmp / "service.log", "wb")  # noqa: SIM115 - closed with the process
        service = subprocess.Popen([sys.executable, "-m", "interfaces.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--no-worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/readyz", service)
        token = issue_token(secret, subject="bench", role="admin", gateways=["*"], ttl=__import__("datetime").timedelta(hours=1))
        seconds, _ = setup_jobs(base, {"Authorization": f"Bearer {token}", "X-Gateway-ID": GATEWAY}, JOBS)
        print(f"set-up: {JOBS} jobs in {seconds:.1f} s; {os.cpu_count()} CPUs (shared with parallel work)", flush=True)
        Users(db_url).add("bench", PASSWORD, "operator", [GATEWAY])

        with httpx.Client(base_url=base) as client:
            form = client.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            signed = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": csrf})
            assert signed.status_code in (200, 303), signed.status_code
            cookie = client.cookies["session_token"]
            first = client.get("/scheduler-automation")
            assert first.status_code == 200 and __import__('html').unescape(first.text).count('"id":"job_') == JOBS, "the page does not embed every job"
            size = len(first.content)
            for _ in range(10):
                client.get("/scheduler-automation")  # warm-up
            renders = timed(lambda: client.get("/scheduler-automation").raise_for_status(), args.renders)
            api = {"X-Gateway-ID": GATEWAY}

            def api_reads() -> None:
                for offset in range(0, JOBS, 100):
                    client.get(f"/api/v1/scheduler/jobs?limit=100&offset={offset}", headers=api).raise_for_status()
                for path in ("/status", "/gateways", "/statistics"):
                    client.get(f"/api/v1/scheduler{path}", headers=api).raise_for_status()

            for _ in range(3):
                api_reads()
            baseline = timed(api_reads, max(20, args.renders // 5))
        import gzip

        print(f"page: {size / 1024:.0f} KiB ({len(gzip.compress(first.content)) / 1024:.0f} KiB gzip) with {JOBS} jobs")
        p50, p99 = statistics.median(renders), percentile(renders, 0.99)
        b50, b99 = statistics.median(baseline), percentile(baseline, 0.99)
        print(f"server render: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(renders)} GETs (target p99 < 100 ms)")
        print(f"baseline (the 13 API reads the embedding replaces): p50 {b50:.1f} ms, p99 {b99:.1f} ms; "
              f"page / baseline p50 = {p50 / b50:.2f}x")

        path = chromium_path()
        if path is None:
            print("browser: skipped (no chromium)")
            return 0
        from playwright.sync_api import sync_playwright

        drawn: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies([{"name": "session_token", "value": cookie, "url": base}])
            for _ in range(args.navigations + 2):
                page = context.new_page()
                page.goto(f"{base}/scheduler-automation")
                page.wait_for_selector("body[data-jobs-drawn]")
                drawn.append(float(page.get_attribute("body", "data-jobs-drawn")))
                page.close()
            browser.close()
        drawn = drawn[2:]  # the first two warm the browser's cache of the modules
        print(f"browser: navigation to jobs table drawn p50 {statistics.median(drawn):.0f} ms, "
              f"max {max(drawn):.0f} ms over {len(drawn)} navigations (target < 1000 ms)")
        return 0
    finally:
        stop(service)
        if db_url:
            drop_database(server_url, db_url)
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    sys.exit(main())
