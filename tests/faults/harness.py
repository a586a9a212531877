"""A fault scenario: a fresh migrated database on a private cluster, a private broker with a
subscriber counting every delivered execution id, 1-2 worker processes of one gateway, jobs
created through the Scheduler application, faults recorded with their times, and the invariant
report (tests/faults/invariants.py) waited for with a deadline. Shared with bench/chaos.py."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from tests.faults import invariants
from tests.faults.processes import Broker, PgCluster, WorkerProcess, wait_for

PAYLOAD = '{"e": "${EXECUTION_ID}", "j": "${JOB_ID}", "now": "${NOW}"}'


class Subscriber:
    """A persistent-session QoS 1 subscriber (clean_session off, fixed client id), so messages
    published while it reconnects after a broker restart are queued for it, not lost. Counts only
    first deliveries (dup flag off): a broker redelivering to us is not a publisher duplicate."""

    def __init__(self, url_port: int, topic: str) -> None:
        self.topic = topic
        self.deliveries: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"faults-sub-{uuid.uuid4().hex[:8]}",
                                  clean_session=False)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", url_port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("subscriber could not connect to the broker")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if msg.dup:
            return
        try:
            execution_id = json.loads(msg.payload)["e"]
        except (ValueError, KeyError, TypeError):
            return
        with self.lock:
            self.deliveries[execution_id].append(time.time())

    def snapshot(self) -> dict[str, list[float]]:
        with self.lock:
            return {k: list(v) for k, v in self.deliveries.items()}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Fault:
    kind: str
    start: float
    end: float = 0.0
    target: str = ""


class Scenario:
    """Everything of one case; `close()` stops it all (call it in a finally)."""

    def __init__(self, cluster: PgCluster, base: Path, gateway_id: str | None = None) -> None:
        from application.scheduler import Scheduler
        from interfaces.database import eventsourcing_env, migrate

        self.cluster, self.base = cluster, base
        self.gateway_id = gateway_id or f"gw-f{uuid.uuid4().hex[:6]}"
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o777)
        self.url = cluster.create_database(f"faults_{uuid.uuid4().hex[:8]}")
        migrate(self.url)
        self.app = Scheduler(eventsourcing_env(self.url, pool_size=1))
        self.broker = Broker(base / "broker")
        self.broker.start()
        self.topic = f"faults/{self.gateway_id}"
        self.subscriber = Subscriber(self.broker.port, self.topic + "/#")
        self.workers: list[WorkerProcess] = []
        self.faults: list[Fault] = []
        self.kills: list[float] = []
        self.never_started: set[str] = set()
        self.job_ids: list[str] = []

    # ---- processes -----------------------------------------------------------------------------

    def add_worker(self, name: str, *, mqtt_url: str | None = None, env: dict[str, str] | None = None,
                   wait: bool = True) -> WorkerProcess:
        worker = WorkerProcess(name, self.gateway_id, self.url, mqtt_url or self.broker.url, self.base, env)
        self.workers.append(worker.start())
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, *workers: WorkerProcess, timeout: float = 45) -> None:
        for worker in workers:
            wait_for(worker.ready, timeout, what=f"worker {worker.name} ready")

    def leader(self, timeout: float = 20) -> WorkerProcess:
        """The worker holding the gateway's current, unexpired leadership term: the lease row's
        holder names its process (host:pid:nonce, application.dispatch.leadership)."""
        return wait_for(self._leader, timeout, what="a leader")

    def _leader(self) -> WorkerProcess | None:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT holder FROM dispatch_leases WHERE gateway_id = %s AND expires_at > now()",
                    (self.gateway_id,)).fetchone()
        except psycopg.Error:
            return None
        if row is None:
            return None
        pid = int(row[0].split(":")[1])
        return next((w for w in self.workers if w.pid == pid and w.alive()), None)

    # ---- jobs ----------------------------------------------------------------------------------

    def replicas(self, count: int = 2) -> list[WorkerProcess]:
        """`count` workers of the gateway, started together, ready."""
        workers = [self.add_worker(f"w{i + 1}", wait=False) for i in range(count)]
        self.wait_ready(*workers)
        return workers

    def create_publish_jobs(self, count: int, *, interval: int = 1, misfire: str = "skip", qos: int = 1,
                            timeout: float = 5, max_attempts: int = 1, overlap: str = "skip",
                            backoff: float = 1, prefix: str = "p") -> list[str]:
        created = []
        for i in range(count):
            fields = {
                "name": f"{prefix}{i}", "type": "interval", "schedule": {"interval_seconds": interval},
                "action": {"type": "publish", "topic": f"{self.topic}/{prefix}{i}", "payload_template": PAYLOAD,
                           "qos": qos},
                "options": {"misfire_policy": misfire, "timeout_seconds": timeout, "max_attempts": max_attempts,
                            "overlap_policy": overlap, "backoff_seconds": backoff, "backoff_multiplier": 1},
            }
            created.append(self.app.create_job(self.gateway_id, fields, actor="faults").job.job_id)
        self.job_ids += created
        return created

    def wait_deliveries(self, count: int, timeout: float = 20, after: float = 0.0, required: bool = True) -> bool:
        """Until `count` distinct executions first delivered after `after` have arrived. With
        `required=False` a timeout returns False: the invariant report then says what broke."""
        try:
            wait_for(lambda: sum(1 for v in self.subscriber.snapshot().values() if min(v) > after) >= count,
                     timeout, what=f"{count} deliveries after {invariants.iso(after) if after else 'start'}")
            return True
        except TimeoutError:
            if required:
                raise
            return False

    def delivered_between(self, start: float, end: float) -> int:
        return sum(1 for v in self.subscriber.snapshot().values() if start < min(v) < end)

    def runs(self) -> dict[Any, invariants.Run]:
        return invariants.build(invariants.read_events(self.url, self.app.mapper), {self.gateway_id})[1]

    # ---- faults and checks ----------------------------------------------------------------------

    def fault(self, kind: str, target: str = "") -> Fault:
        fault = Fault(kind, time.time(), target=target)
        self.faults.append(fault)
        if kind == "kill9":
            self.kills.append(fault.start)
        return fault

    def report(self, window_end: float) -> invariants.Report:
        events = invariants.read_events(self.url, self.app.mapper)
        jobs, runs = invariants.build(events, {self.gateway_id})
        deliveries = self.subscriber.snapshot()
        report = invariants.check(jobs, runs, deliveries, window_end=window_end, now=time.time(), kills=self.kills,
                                  inflight=invariants.inflight_ids(self.url), never_started=self.never_started)
        report.table["takeover seconds"] = self.takeovers(runs, deliveries) or "-"
        report.table["mqtt client-id clashes"] = self.broker.log_text().count("already connected")
        return report

    def takeovers(self, runs: dict[Any, invariants.Run], deliveries: dict[str, list[float]]) -> list[str]:
        """Per fault, "kind: s": seconds from its start to the first message of a run recorded
        after it (None: no such message yet)."""
        firsts = sorted(min(deliveries[r.execution_id]) for r in runs.values() if r.execution_id in deliveries
                        and not r.missed and r.retries == 0)
        created = {r.execution_id: r.created for r in runs.values()}
        out = []
        for fault in self.faults:
            after = [t for t in firsts if t > fault.start]
            fresh = [t for e, v in deliveries.items() for t in v[:1] if t > fault.start and created.get(e, 0) > fault.start]
            first = min(fresh or after) - fault.start if fresh or after else None
            out.append(f"{fault.kind}: {first:.2f}" if first is not None else f"{fault.kind}: none")
        return out

    def settle(self, window_end: float, timeout: float) -> invariants.Report:
        """Waits (until `timeout` s from now) for every instant up to `window_end` to have its
        outcome and every success its message; returns the report then, or at the deadline."""
        wait_for(lambda: time.time() > window_end, window_end - time.time() + 5, what="window end")
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = self.report(window_end)
            except psycopg.Error:
                report = None
            if report is not None and not report.pending and not report.violations.get("lost"):
                return report
            if time.monotonic() >= deadline:
                return report if report is not None else self.report(window_end)
            time.sleep(0.5)

    def describe(self, report: invariants.Report) -> str:
        lines = [report.format(), f"faults: {[(f.kind, f.target, invariants.iso(f.start)) for f in self.faults]}"]
        for worker in self.workers:
            lines.append(f"--- {worker.name} ({'alive' if worker.alive() else 'exited'}) log tail:\n" + "\n".join(
                line[:300] for line in worker.tail(6).splitlines()))
        return "\n".join(lines)

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker.stop(grace=10)
            except Exception:  # noqa: BLE001 - closing is best effort
                worker.kill9()
        for closer in (self.subscriber.close, self.broker.stop, self.app.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
