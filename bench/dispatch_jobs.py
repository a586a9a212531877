"""The dispatch bench's job set, result record and timing helpers (shared by both schedulers)."""

from __future__ import annotations

import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

EDGE = 2.0  # seconds left out at each end of the run

# ---- the job set ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    index: int
    period: int  # seconds
    phase_ms: int  # first fire = T + phase_ms

    @property
    def job_id(self) -> str:
        return f"job_{self.index:05d}"


def job_specs(n: int) -> list[Spec]:
    """Periods 1..10 s in turn; within each period the jobs' phases are spread evenly over it."""
    per_period = [len(range(p - 1, n, 10)) for p in range(1, 11)]
    specs = []
    for i in range(n):
        period, k = 1 + i % 10, i // 10
        specs.append(Spec(i, period, (period * 1000 * k) // per_period[period - 1]))
    return specs


def first_ms(spec: Spec, base_ms: int) -> int:
    return base_ms + spec.phase_ms


def expected_fires(specs: list[Spec], base_ms: int, lo_ms: int, hi_ms: int) -> int:
    """Instants first + k * period (k >= 0) in [lo, hi), summed over the jobs."""
    total = 0
    for s in specs:
        first, step = first_ms(s, base_ms), s.period * 1000
        k_lo = max(0, -((first - lo_ms) // step))  # ceil((lo - first) / step), at least 0
        k_hi = (hi_ms - 1 - first) // step  # last k with first + k * step < hi
        total += max(0, k_hi - k_lo + 1)
    return total


def instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def ms_of(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


# ---- results -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    expected: int
    recorded: int
    missed_events: int = 0
    duplicates: int = 0
    samples: list[tuple[int, float]] = field(default_factory=list)  # (scheduled ms, lateness ms) of each fire run
    notes: list[str] = field(default_factory=list)
    cpu_seconds: float = float("nan")  # this process's CPU from the first fire to the stop
    fires_run: int = 0  # actions started over that time
    rss_mb: float = float("nan")  # this process's resident memory at the stop
    commits: int = 0  # the database's committed transactions over the same time (pg_stat_database)
    threads_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds over that time by thread group

    @property
    def cpu_us_per_fire(self) -> float:
        return self.cpu_seconds / self.fires_run * 1e6 if self.fires_run else float("nan")

    @property
    def lateness_ms(self) -> list[float]:
        return [late for _, late in self.samples]

    @property
    def missed(self) -> int:
        return self.expected - self.recorded

    def cpu_by_thread(self) -> str:
        """CPU per fire of each thread group, most first; "rest": threads that ended, and rounding."""
        top = sorted(self.threads_cpu.items(), key=lambda kv: -kv[1])
        rest = self.cpu_seconds - sum(self.threads_cpu.values())
        cells = [f"{name} {s / self.fires_run * 1e6:.0f}" for name, s in top if s > 0]
        return ", ".join(cells + [f"rest {rest / self.fires_run * 1e6:.0f}"])

    def pct(self, q: float) -> float:
        data = sorted(self.lateness_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))]


def sleep_until(t: float) -> None:
    while (left := t - time.time()) > 0:
        time.sleep(min(left, 0.5))


def thread_cpu(strip: str = "") -> dict[str, float]:
    """CPU seconds (user + system, /proc) so far of each live Python thread of this process, summed
    by name with `strip` and trailing numbers removed ("run-gw_12" -> "run")."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # it ended meanwhile
        group = re.sub(r"[-_]?\d+$", "", thread.name.replace(strip, "")).rstrip("-_") if strip else thread.name
        cpu[group] = cpu.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return cpu


def cpu_delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def rss_mb() -> float:
    """This process's resident set size (Linux /proc), MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
