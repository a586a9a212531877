"""Chaos bench: the fault suite's faults at random for N minutes against replicas of one gateway
with many publish jobs, then the invariant table of issue 8 (instants expected, succeeded, missed
by reason, lost, doubled, ghosts, published twice, takeover times ...). Exits 1 if an invariant
broke, 0 otherwise.

    .venv/bin/python bench/chaos.py --minutes 4 --jobs 40 --replicas 2

It reuses the fault suite's harness and invariants (tests/faults/processes.py, harness.py,
invariants.py): the repository root goes on sys.path and `tests.faults` is imported from there,
so the bench and the suite judge with the same code (the suite never imports bench/)."""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.harness import Scenario  # noqa: E402
from tests.faults.invariants import iso  # noqa: E402
from tests.faults.processes import PgCluster  # noqa: E402

FAULTS = ("kill9", "postgres-fast", "postgres-immediate", "sigstop", "broker-restart")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=4.0, help="how long faults are injected (default 4)")
    p.add_argument("--jobs", type=int, default=40, help="publish jobs, QoS 1, every 1-3 s (default 40)")
    p.add_argument("--replicas", type=int, default=2, help="worker processes of the gateway (default 2)")
    p.add_argument("--every", type=float, default=20.0, help="mean seconds between faults (default 20)")
    p.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated subset of {','.join(FAULTS)}")
    p.add_argument("--pause", type=float, default=10.0, help="seconds a SIGSTOPped leader stays frozen")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (worker and broker logs)")
    args = p.parse_args(argv)
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = sorted(set(args.faults) - set(FAULTS))
    if unknown or not args.faults:
        p.error(f"unknown faults: {unknown}" if unknown else "no faults given")
    if args.replicas < 1 or args.jobs < 1:
        p.error("--replicas and --jobs must be at least 1")
    return args


class Chaos:
    def __init__(self, scenario: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
        self.s, self.args, self.rng = scenario, args, rng
        self.spawned = 0
        self.skipped: list[str] = []

    def spawn(self, wait: bool = True):
        self.spawned += 1
        return self.s.add_worker(f"w{self.spawned}", wait=wait)

    def leader(self):
        try:
            return self.s.leader(timeout=10)
        except TimeoutError:
            return None

    def inject(self, kind: str) -> None:
        s = self.s
        if kind in ("kill9", "sigstop"):
            victim = self.leader()
            if victim is None:
                self.skipped.append(f"{kind} at {iso(time.time())}: no leader found")
                return
            fault = s.fault(kind, victim.name)
            if kind == "kill9":
                victim.kill9()
                self.spawn(wait=False)  # keep the replica count: a fresh process replaces the dead one
            else:
                victim.signal(signal.SIGSTOP)
                try:
                    time.sleep(self.args.pause)  # the fault itself: frozen this long
                finally:
                    victim.signal(signal.SIGCONT)
        elif kind.startswith("postgres-"):
            fault = s.fault(kind, "cluster")
            s.cluster.restart(kind.split("-", 1)[1])
        else:
            fault = s.fault(kind, "mosquitto")
            s.broker.restart(down_seconds=3.0)
        fault.end = time.time()
        print(f"  {iso(fault.start)} {kind:<19} {fault.target:<9} {fault.end - fault.start:5.1f} s", flush=True)

    def create_jobs(self) -> None:
        """A mix: a third misfire skip, a third run_once, a third run_once with retries; 1-3 s."""
        for i in range(self.args.jobs):
            kind = i % 3
            self.s.create_publish_jobs(
                1, interval=1 + i % 3, misfire="skip" if kind == 0 else "run_once", max_attempts=3 if kind == 2 else 1,
                backoff=1, timeout=5, prefix=f"c{i}-")


def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    base = Path(tempfile.mkdtemp(prefix="gs-chaos-"))
    base.chmod(0o755)  # as root the server runs as its own user, which must reach its data dir
    print(f"chaos: seed {seed}, {args.minutes:g} min, {args.jobs} jobs, {args.replicas} replicas, "
          f"faults {','.join(args.faults)} every ~{args.every:g} s; logs in {base}", flush=True)
    cluster = PgCluster(base / "pg")
    cluster.start()
    scenario = None
    try:
        scenario = Scenario(cluster, base / "case")
        chaos = Chaos(scenario, args, rng)
        workers = [chaos.spawn(wait=False) for _ in range(args.replicas)]
        scenario.wait_ready(*workers)
        chaos.create_jobs()
        scenario.wait_deliveries(min(args.jobs, 50), timeout=30)
        began = time.time()
        end = began + args.minutes * 60
        print("faults:", flush=True)
        while True:
            gap = rng.uniform(0.5, 1.5) * args.every
            if time.time() + gap >= end:
                break
            time.sleep(gap)  # time between faults (the bench's pacing, nothing is asserted on it)
            chaos.inject(rng.choice(args.faults))
        wait = max(0.0, end - time.time())
        time.sleep(wait)  # the quiet tail of the run, so the last fault's recovery is inside it
        window_end = time.time()
        print(f"faults stopped at {iso(window_end)}; settling (deadline 40 s) ...", flush=True)
        report = scenario.settle(window_end=window_end, timeout=40)
        report.table["faults injected"] = len(scenario.faults)
        report.table["faults by kind"] = {k: sum(1 for f in scenario.faults if f.kind == k) for k in args.faults}
        print(report.format(limit=5))
        for line in chaos.skipped:
            print("skipped fault:", line)
        clashes = report.table["mqtt client-id clashes"]
        broken = list(report.broken) + (["mqtt client-id clashes"] if clashes else [])
        print("RESULT:", "invariants hold" if not broken else "BROKEN: " + ", ".join(broken))
        return 1 if broken else 0
    finally:
        if scenario is not None:
            scenario.close()
        cluster.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run(parse()))
