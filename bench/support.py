"""What the fleet benches share: a started runtime on a fresh database, percentiles, timing in wall
and CPU time, and PASS/FAIL against a target."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interfaces.database import EmbeddedPostgres, create_database, drop_database  # noqa: E402
from interfaces.runtime import Runtime  # noqa: E402
from interfaces.settings import Settings  # noqa: E402


@contextmanager
def started_runtime(database: str, **settings: object) -> Iterator[Runtime]:
    """A runtime on a fresh, migrated database `database` of DATABASE_URL's server, else of an
    embedded one in a temp dir (mode 755, so the server's own user reaches it as root); dropped
    afterwards."""
    server_url, embedded, base = os.environ.get("DATABASE_URL"), None, None
    if not server_url:
        base = Path(tempfile.mkdtemp(prefix="gs-bench-"))
        base.chmod(0o755)
        embedded = EmbeddedPostgres(base / "pgdata")
        server_url = embedded.url
    url = create_database(server_url, database)
    runtime = Runtime(replace(Settings(), database_url=url, jwt_secret="bench", **settings)).start()
    try:
        yield runtime
    finally:
        runtime.close()
        drop_database(server_url, url)
        if embedded is not None:
            embedded.stop()
            shutil.rmtree(base, ignore_errors=True)  # type: ignore[arg-type]


def percentile(values: list[float], q: float) -> float:
    """The inclusive q-th percentile (one value: itself)."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def timed(call: Callable[[], object], rounds: int, before: Callable[[], object] | None = None) -> tuple[list[float], list[float]]:
    """Wall and this process's CPU milliseconds of each of `rounds` calls (`before` runs untimed
    ahead of each). CPU beside wall: the machine's other load inflates wall time."""
    wall, cpu = [], []
    for _ in range(rounds):
        if before is not None:
            before()
        began, used = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "FAIL"


def load() -> str:
    """The machine's load averages (1, 5, 15 min) and cores, to print beside the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"
